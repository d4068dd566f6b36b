"""The app's pages: each module lays out one page with Streamlit (``render(ctx)``).

The tables and figures they show are built in :mod:`ewaste_tracker.app.views` and
:mod:`ewaste_tracker.app.figures` (no Streamlit there, unit-tested); these modules only
choose, cache and place them.
"""
