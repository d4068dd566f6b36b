"""ewaste-tracker: a geospatial e-waste and circular-economy tracker.

The public API:

* :func:`estimate` → :class:`Estimate`: put on market, stocks, e-waste generated, the
  lifecycle flows, minerals recovered and lost, and indicators for every country (the UNU
  sales-lifespan method of the Global E-waste Monitor), with the accepted national
  submissions of the store in place, or for a user's own input tables;
* :mod:`ewaste_tracker.catalog`: the shipped reference data with their sources;
* :func:`read_inputs_folder` and :class:`ModelInputs`: a user's own model inputs;
* :func:`check_mass_balance` and :func:`graph_to_sankey` on :meth:`Estimate.graph`.

Rooms (subpackages): :mod:`~ewaste_tracker.flows` (the material-flow engine, pure numbers),
:mod:`~ewaste_tracker.maps` (geometries, grids, networks, siting, rendering),
:mod:`~ewaste_tracker.model` (tables into the engine), :mod:`~ewaste_tracker.defaults`
(default models and their calibration), :mod:`~ewaste_tracker.reported` (submissions applied
to the estimate), :mod:`~ewaste_tracker.submissions` (templates, validation, the store),
:mod:`~ewaste_tracker.jobs` (what the command-line subcommands do) and
:mod:`~ewaste_tracker.app` (what the Streamlit page shows).

Examples
--------
>>> import ewaste_tracker as et
>>> est = et.estimate(countries=["KEN"])  # doctest: +SKIP
>>> est.indicators.head()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.2.0"

__all__ = [
    "Estimate",
    "InputError",
    "InputErrors",
    "ModelInputs",
    "__version__",
    "catalog",
    "check_mass_balance",
    "estimate",
    "graph_to_sankey",
    "read_inputs_folder",
    "settings",
]

# ``estimate`` is both a module and the function it defines: the function is bound here at
# import (a later ``import ewaste_tracker.estimate`` would otherwise shadow it with the
# module). The module imports only numpy and pandas at its top; the rest of the names are
# imported on first use (PEP 562), so the command line's start stays light.
from ewaste_tracker.estimate import Estimate, estimate

_LAZY = {
    "InputError": "ewaste_tracker.errors",
    "InputErrors": "ewaste_tracker.errors",
    "ModelInputs": "ewaste_tracker.model.run",
    "read_inputs_folder": "ewaste_tracker.model.folder",
    "check_mass_balance": "ewaste_tracker.flows.balance",
    "graph_to_sankey": "ewaste_tracker.flows.balance",
    "catalog": None,
    "settings": None,
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ewaste_tracker' has no attribute {name!r}")
    module = _LAZY[name]
    if module is None:
        value = importlib.import_module(f"ewaste_tracker.{name}")
    else:
        value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """The package module, keeping ``ewaste_tracker.estimate`` the function.

    The function ``estimate`` and its module ``ewaste_tracker.estimate`` share a name. Importing
    the submodule makes Python bind it as the package's attribute, which would hide the function
    (``et.estimate(...)`` then fails with "'module' object is not callable" whenever anything
    imported ``ewaste_tracker.estimate`` first); that one binding is ignored here. The module
    stays in ``sys.modules`` for ``from ewaste_tracker.estimate import ...``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "estimate" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
