"""ewaste-tracker's Streamlit page, for ``streamlit run app.py`` from a checkout.

The page lives in the package (:mod:`ewaste_tracker.app.page`) so that an installed
ewaste-tracker serves it too (``ewaste-tracker app``); this file only starts it.
"""

from ewaste_tracker.app.page import main

main()
