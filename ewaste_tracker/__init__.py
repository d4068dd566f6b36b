"""ewaste-tracker: the application core.

The catalogue of reference data, national submissions and their validation, the store,
scenarios, and the pipeline that runs the material-flow engine (:mod:`flows`) and the
geospatial layer (:mod:`maps`); the command line lives in :mod:`ewaste_tracker.cli`.
"""

__version__ = "0.1.0"
