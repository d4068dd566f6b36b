"""What the Streamlit app shows: tables (``views``), figures (``figures``) and provenance,
with no Streamlit import, and the page itself (``page``) with its launcher (``launch``)."""
