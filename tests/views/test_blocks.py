"""A LaTeX block set as displays a page may break between (blocks.displays): split only
where a step begins, never inside a step, and a long step kept whole."""

from __future__ import annotations

import re

import pytest

from derive.views.blocks import displays
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
