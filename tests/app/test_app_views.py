"""Text from files and links shown as written: the escaping under every page's headings and notes."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from app.views import _MARKDOWN_SPECIAL, plain, plain_text
from sim.scenarios import text_ok

# What a scenario file's description or teaching notes may hold: printable characters, line
# breaks and tabs.
FILE_TEXT = st.text(
    st.one_of(st.characters().filter(str.isprintable), st.sampled_from(" \n\t")),
    max_size=200,
)
REFERENCE = re.compile(r"&#\d+;")


def _read(markdown: str) -> str:
    """What a reader sees of escaped text: references decoded, word joiners and hard breaks gone."""
    return html.unescape(markdown).replace("\u2060", "").replace("  \n", "\n")


@given(st.text(st.characters().filter(str.isprintable), max_size=120))
def test_plain_leaves_no_markup_character(text):
    out = plain(text)
    assert not set(REFERENCE.sub("", out)) & _MARKDOWN_SPECIAL
    assert _read(out) == text


@given(FILE_TEXT)
def test_plain_text_keeps_paragraphs_and_lines_and_no_markup(text):
    assert text_ok(text)
    out = plain_text(text)
    assert not set(REFERENCE.sub("", out)) & _MARKDOWN_SPECIAL
    # No line opens with a blank (Markdown would read it as code) or is blank inside a paragraph.
    assert all(line == line.lstrip(" \t") for line in out.split("\n"))
    paragraphs = re.split(r"\n[ \t]*\n", text.strip())
    expected = "\n\n".join(
        "\n".join(line.strip() for line in par.split("\n") if line.strip()) for par in paragraphs
    )
    assert _read(out) == expected
