"""A LaTeX block set as displays a page may break between (blocks.displays): split only
where a step begins, never inside a step, and a long step kept whole; rows too wide for the
page broken where a reader would break them."""

from __future__ import annotations

import re

import pytest

from derive.views.blocks import displays, equation_rows, packed_rows
from derive.views.documents import render

from ..shapes import all_problems

STEP = ["a &= b", "&= 1", "&= 2"]  # one step: its head and two continuation rows


@pytest.mark.parametrize(
    ("rows", "limit", "expected"),
    [
        (STEP, 10, [STEP]),
        (STEP * 3, 6, [STEP * 2, STEP]),
        (STEP * 3, 3, [STEP, STEP, STEP]),
        (STEP, 2, [STEP]),  # a step longer than the limit is a display of its own, not cut
        (["x &= 1", "y &= 2", "z &= 3"], 2, [["x &= 1", "y &= 2"], ["z &= 3"]]),
        (["&\\quad + 1", "x &= 1"], 1, [["&\\quad + 1"], ["x &= 1"]]),  # a leading continuation stays first
        ([], 10, []),
    ],
)
def test_a_block_is_split_only_where_a_step_begins(rows: list[str], limit: int, expected: list[list[str]]) -> None:
    assert displays(rows, limit) == expected


def test_thirty_six_updates_are_set_as_displays_of_at_most_ten_rows() -> None:
    """The 3-4-4-2 shape's 36 updates were one display, far taller than a page."""
    tex = render(all_problems()["3-4-4-2 tanh mse"], "handout", "tex")
    updates = tex.split("\\section*{Parameter update}", 1)[1].split("\\section*", 1)[0]
    blocks = re.findall(r"\\begin\{aligned\}\n(.*?)\\end\{aligned\}", updates, re.S)
    rows = [len(block.strip().splitlines()) for block in blocks]
    assert len(blocks) >= 4 and max(rows) <= 10, rows


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (["x = 1"], ["&x = 1"]),
        ([f"x_{{{i}}} = 0.{i}5" for i in range(1, 10)],
         [r"&x_{1} = 0.15,\quad x_{2} = 0.25,\quad x_{3} = 0.35,\quad x_{4} = 0.45,\quad x_{5} = 0.55,\quad x_{6} = 0.65",
          r"&x_{7} = 0.75,\quad x_{8} = 0.85,\quad x_{9} = 0.95"]),
    ],
)
def test_given_values_are_packed_into_rows_that_fit(items: list[str], expected: list[str]) -> None:
    assert packed_rows(items) == expected


@pytest.mark.parametrize(
    ("head", "term", "expected"),
    [
        # tanh of a whole weighted sum: broken inside its parentheses, which grow to \bigl( \bigr)
        ("y'", r"\tanh{\left(-0.304 + 0.273 \cdot 0.5 - 0.635 \cdot \left(-1.2\right) + 0.406 \cdot 0.8 - 0.009 \cdot 2 - 0.282 \cdot 1.5 + 0.616 \cdot \left(-0.3\right)\right)}",
         [r"y' &= \tanh\bigl(-0.304 + 0.273 \cdot 0.5 - 0.635 \cdot \left(-1.2\right) + 0.406 \cdot 0.8",
          r"&\quad - 0.009 \cdot 2 - 0.282 \cdot 1.5 + 0.616 \cdot \left(-0.3\right) \bigr)"]),
        # a product of two parenthesised sums is no function of one sum: broken at its dot
        ("q", r"\left(a_{1} + a_{2} + a_{3} + a_{4} + a_{5} + a_{6} + a_{7} + a_{8} + a_{9} + a_{10} + a_{11}\right) \cdot \left(b_{1} + b_{2} + b_{3} + b_{4} + b_{5} + b_{6} + b_{7} + b_{8} + b_{9}\right)",
         [r"q &= \left(a_{1} + a_{2} + a_{3} + a_{4} + a_{5} + a_{6} + a_{7} + a_{8} + a_{9} + a_{10} + a_{11}\right)",
          r"&\quad \cdot \left(b_{1} + b_{2} + b_{3} + b_{4} + b_{5} + b_{6} + b_{7} + b_{8} + b_{9}\right)"]),
    ],
)
def test_a_row_too_wide_breaks_where_a_reader_would(head: str, term: str, expected: list[str]) -> None:
    assert equation_rows(head, [[term]]) == expected
