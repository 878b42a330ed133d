"""Text from files and links shown as text: the escaping under every page's headings and notes."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import views
from app.views import _MARKDOWN_SPECIAL, plain, plain_text
from sim.narrative import is_unclear
from sim.report.format import fmt_delta
from sim.scenarios import text_ok

REFERENCE = re.compile(r"&#\d+;")
# What Streamlit still rewrites after reading the references, unless a word joiner breaks it:
# ":streamlit:" (its logo), arrows and symbols (->, <=, --, ~=) and bare addresses.
REWRITTEN = re.compile(r"(?i)(?:https?:|ftp:|mailto:|www|@)(?!\u2060)|:streamlit:|[-<>~=][-<>=]")
LIST_ITEM = re.compile(r"([-*+\u2022]|\d{1,9}[.)])\s")

TITLE_TEXT = st.text(st.characters().filter(str.isprintable), max_size=120)
# A scenario file's description or teaching notes, with markup-like lines mixed in.
LINE = st.one_of(
    st.text(st.one_of(st.characters(), st.sampled_from(" \t:->=<*_[]()`|#")), max_size=30),
    st.sampled_from(["- item", "1. one", "2) two", "    code", "===", ":streamlit:", "a -> b"]),
)
FILE_TEXT = st.lists(LINE, max_size=8).map("\n".join).filter(text_ok)


def _decoded(markdown: str) -> str:
    return html.unescape(markdown)


def _read(markdown: str) -> str:
    """What a reader sees: references decoded, word joiners and hard line breaks gone."""
    return _decoded(markdown).replace("\u2060", "").replace("  \n", "\n")


def _no_markup(out: str) -> None:
    assert not set(REFERENCE.sub("", out)) & _MARKDOWN_SPECIAL
    assert not REWRITTEN.search(_decoded(out)), _decoded(out)


@given(TITLE_TEXT)
def test_plain_leaves_no_markup_and_reads_back_exactly(text):
    out = plain(text)
    _no_markup(out)
    assert _read(out) == text


@given(FILE_TEXT)
def test_plain_text_keeps_words_paragraphs_and_list_items_and_no_markup(text):
    out = plain_text(text)
    _no_markup(out)
    # No line opens with a blank: Markdown would read it as code.
    assert all(line == line.lstrip(" \t") for line in out.split("\n"))
    # Every word, in order; and as many paragraphs as the text has.
    assert _read(out).split() == text.split()
    paragraphs = [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    assert len(_read(out).split("\n\n")) == max(1, len(paragraphs))
    # Within a paragraph a line runs on, unless it starts like a list item: then it keeps its line.
    for par in _read(out).split("\n\n"):
        assert all(LIST_ITEM.match(line) for line in par.split("\n")[1:])
    items = [ln.strip() for ln in text.split("\n") if LIST_ITEM.match(ln.strip())]
    shown_lines = _read(out).split("\n")
    assert all(any(line.startswith(item) for line in shown_lines) for item in items)


def test_plain_text_runs_wrapped_lines_on_like_the_presets_markdown():
    text = "Each function optimises a local metric\nonly loosely tied to value.\n\nAsk:\n- which?\n2) when"
    assert _read(plain_text(text)) == (
        "Each function optimises a local metric only loosely tied to value.\n\nAsk:\n- which?\n2) when"
    )


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:8501/learn", True),
        ("http://127.0.0.1:8611/", True),
        ("http://[::1]:8501/", True),
        ("http://0.0.0.0:8501/", True),
        ("http://app.localhost:8501/", True),
        ("http://10.1.2.3:8501/", False),
        ("https://sandbox.example.org/learn", False),
        ("/learn", False),
        ("", False),
        ("http://[bad", False),
    ],
)
def test_a_link_that_opens_only_on_this_computer_says_so(url, local):
    assert (views.loopback_note(url) == views.LOOPBACK_NOTE) is local


def test_a_link_to_share_has_a_path_before_its_query():
    assert views.link_text("http://h:8501", {"seed": "7"}) == "http://h:8501/?seed=7"
    assert views.link_text("http://h:8501/learn", {"seed": "7"}) == "http://h:8501/learn?seed=7"
    assert views.link_text("http://h:8501", {}) == "http://h:8501/"
    assert views.link_text("/learn", {"a": "b c"}) == "/learn?a=b+c"
    assert views.link_text("", {}) == ""


@pytest.mark.parametrize(
    ("p05", "p95", "grey"),
    [
        (-3.0, 5.0, True),
        (1.0, 5.0, False),
        (-5.0, -1.0, False),
        (0.0, 0.0, False),
        (0.0, 2.0, True),
    ],
)
def test_a_tile_is_grey_only_when_its_change_may_go_either_way(p05, p95, grey):
    """Grey for an interval that holds zero; a change that is nothing in every pair is not
    'unclear' (it has no arrow to colour), and says so without the grey's reason."""
    row = {"diff_mean": (p05 + p95) / 2, "diff_p05": p05, "diff_p95": p95}
    assert is_unclear(row) is grey
    change = views.tile_delta("value_delivered", row, fmt_delta(row["diff_mean"], "value points"))
    nothing = p05 == p95 == 0.0  # "±0 points", grey and without an arrow, not a bare "0"
    assert (change["delta_color"] == "gray") is (grey or nothing)
    assert (change["delta_arrow"] == "off") is nothing
    if not grey and not nothing:  # green for more value, red for less; the arrow follows
        up = row["diff_mean"] > 0
        assert change["delta_color"] == ("green" if up else "red")
        assert change["delta_arrow"] == ("up" if up else "down")
    # Lead time is better shorter: a clear rise is red, written with its own sign.
    lead = {"diff_mean": 1.5, "diff_p05": 1.0, "diff_p95": 2.0}
    assert views.tile_delta("lead_time_days", lead, "+1.5 days") == {
        "delta": "+1.5 days",
        "delta_arrow": "up",
        "delta_color": "red",
    }
    fall = {"diff_mean": -1.5, "diff_p05": -2.0, "diff_p95": -1.0}
    assert views.tile_delta("lead_time_days", fall, "−1.5 days")["delta_color"] == "green"
    assert views.change_help("value_delivered", row).endswith("goes the other way.") is grey
    assert views.change_help("value_delivered", None) == ""


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1, None),
        (100, None),
        (40.0, None),  # a float box may hold a whole number
        (0, "Replications = 0 is out of range: a whole number from 1 to 100."),
        (101, "Replications = 101 is out of range: a whole number from 1 to 100."),
        (2.5, "Replications = 2.5 is out of range: a whole number from 1 to 100."),
        (float("inf"), "Replications = inf is out of range: a whole number from 1 to 100."),
        (float("nan"), "Replications = nan is out of range: a whole number from 1 to 100."),
        (None, "Replications = None is not allowed: a whole number from 1 to 100."),
        (True, "Replications = True is not allowed: a whole number from 1 to 100."),
    ],
)
def test_a_whole_number_outside_its_range_is_named_with_the_range(value, problem):
    assert views.whole_number_problem("Replications", value, 1, 100) == problem
