"""Tables the app shows, built from the estimate's public tables (no Streamlit here).

:mod:`.core` holds the year table and the tables shared by pages; each page has its own
module (:mod:`.world`, :mod:`.country`, :mod:`.minerals`, :mod:`.scenarios`,
:mod:`.regions`, :mod:`.sites`, :mod:`.data`). The names of :mod:`.core` are re-exported here.
"""

from ewaste_tracker.app.views.core import *  # noqa: F403
from ewaste_tracker.app.views.core import __all__ as _core_all

__all__ = list(_core_all)
