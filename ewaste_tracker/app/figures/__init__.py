"""Figures and maps the app shows, and their text alternatives (no Streamlit here).

:mod:`.core` holds the shared figures, :mod:`.world` the world maps, :mod:`.country` the
country profile's charts (inline SVG drawn by :mod:`.svg`), :mod:`.panels` those of the
minerals, scenarios and sites pages.
The names of :mod:`.core` are re-exported here.
"""

from ewaste_tracker.app.figures.core import *  # noqa: F403
from ewaste_tracker.app.figures.core import __all__ as _core_all

__all__ = list(_core_all)
