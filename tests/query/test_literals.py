"""Required texts of regular expressions: every match holds one of them."""

from __future__ import annotations

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from logpond.query.literals import required_literals

CASES = [
    (r"reports\/[0-9]+", ("reports/",)),
    ("timeout|refused", ("timeout", "refused")),
    ("abc+de", ("abc",)),
    ("x?yz", ("yz",)),
    ("ab{0,3}cd", ("cd",)),
    ("(foo)bar", ("bar",)),
    (r"\bERROR\b", ("ERROR",)),
    ("^Traceback", ("Traceback",)),
    ("(?s)x.*yz", ("yz",)),
    (r"[\]a]bc(d|e)fg", ("bc",)),
    ("(?i)error", None),
    ("a(?i:b)cd", None),
    ("ab*c", None),
    ("[a-z]+", None),
    ("a.b", None),
    (r"a\x41bcd", None),
    ("a|", None),
    ("(unclosed", None),
]


@pytest.mark.parametrize(("pattern", "expected"), CASES)
def test_required_literals(pattern: str, expected: tuple[str, ...] | None) -> None:
    """Each top-level alternative gives its longest run of plain characters, or nothing."""
    assert required_literals(pattern) == expected


ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "ab",
        "x",
        "\\.",
        "\\/",
        ".",
        "[ab]",
        "[^a]",
        "\\d",
        "\\w",
        "\\s",
        " ",
        "(a|b)",
        "(?:ab)",
        "^",
        "$",
        "\\b",
    ]
)
QUANTIFIERS = st.sampled_from(["", "", "", "*", "+", "?", "{0,2}", "{1,2}", "*?", "+?"])
PIECES = st.lists(st.tuples(ATOMS, QUANTIFIERS).map("".join), min_size=1, max_size=6).map("".join)
PATTERNS = st.lists(PIECES, min_size=1, max_size=3).map("|".join)
TEXTS = st.text(alphabet="abx./1 \n", max_size=12)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS, texts=st.lists(TEXTS, min_size=1, max_size=8))
def test_every_match_holds_a_required_literal(pattern: str, texts: list[str]) -> None:
    """Whenever RE2 finds the pattern in a text, the text holds one of its required literals."""
    literals = required_literals(pattern, shortest=1)
    if literals is None:
        return
    compiled = re2.compile(pattern)
    for text in texts:
        if compiled.search(text) is not None:
            assert any(literal in text for literal in literals), (pattern, text, literals)
