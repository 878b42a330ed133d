"""The Streamlit front end: a thin layer that wires widgets to the runner in ``sim``.

Modules here hold everything the page scripts need, so the pages only arrange widgets:

* ``state``    — settings as plain data, and the query-string form that restores them;
* ``format``   — numbers with their units, and one-line text alternatives of the curves;
* ``charts``   — pure functions returning Altair charts;
* ``compute``  — cached runs on one reused process pool, and the CSV exports;
* ``controls`` — the governance levers and display options, each with the mechanism it drives;
* ``views``    — page sections shared by the Sandbox and Compare pages.
"""
