"""flows: the material-flow engine.

Lifetimes and dynamic stocks (the UNU sales-lifespan method), the lifecycle graph
(networkx) with mass balance, fate tracing, minerals and circularity indicators.
Pure numbers: no geometry, no files, no Streamlit.
"""
