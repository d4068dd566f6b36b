"""The HTTP API for national submissions (FastAPI; ``ewaste-tracker serve``).

Needs the ``server`` extra. See :mod:`ewaste_tracker.api.app`.
"""
