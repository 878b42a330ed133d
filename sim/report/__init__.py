"""Presentation without a UI: chart builders, formats and the decision brief.

Pure functions shared by the Streamlit app and the command line: tidy frames in, Altair charts,
formatted text or a self-contained HTML brief out. Nothing here imports Streamlit.
"""
