"""Tables and figures the Streamlit page shows (no Streamlit imports here)."""
