"""Product Leadership Sandbox — the Streamlit app's entry point.

Run with ``streamlit run streamlit_app.py``. It sets up the page and the navigation; each page is a
short script in ``app/pages`` that wires widgets to the functions in ``app`` and the runner in ``sim``.

The simulation's process pool starts its workers with ``spawn``, which re-runs this file in each
worker under the name ``__mp_main__``; the ``__main__`` guard (and the imports inside ``main``) keep
the workers from importing Streamlit or building the app.
"""

ICON = "app/assets/icon.png"  # served by the app itself: a room without internet still gets it


def main() -> None:
    from pathlib import Path

    import streamlit as st

    from app.session import remember_initial_url
    from app.views import steady_outputs

    st.set_page_config(
        page_title="Product Leadership Sandbox",
        page_icon=str(Path(__file__).resolve().parent / ICON),
        layout="wide",
    )
    pages = [
        st.Page("app/pages/sandbox.py", title="Sandbox", icon=":material/tune:", default=True),
        st.Page("app/pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("app/pages/learn.py", title="Learn", icon=":material/school:"),
        st.Page("app/pages/explore.py", title="Explore", icon=":material/explore:"),
    ]
    page = st.navigation(pages, position="top")
    steady_outputs()
    remember_initial_url(page.title, st.query_params.to_dict())
    page.run()


if __name__ == "__main__":
    main()
