"""`--format check` on the command line: the files it writes, and what it refuses (the page
itself is driven in Chromium by tests/browser/test_check_page.py)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from ..conftest import EXAMPLES
from ..test_cli import _run


def test_worksheet_format_check_writes_the_page_and_its_key(tmp_path: Path) -> None:
    result = _run("worksheet", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "--format", "check,html", "--kind", "worksheet", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "2-2-1-linear-mse"
    assert sorted(p.name for p in folder.iterdir()) == [".derive", "check.html", "key.json", "worksheet.html"]
    page = (folder / "check.html").read_text(encoding="utf-8")
    key = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    asked = [item["id"] for item in key["items"] if item["graded"]]
    assert [html.unescape(item) for item in re.findall(r'data-item="([^"]+)"', page)] == asked
    assert [html.unescape(item) for item in re.findall(r'<span class="verdict" data-verdict="([^"]+)"', page)] == asked
    assert "default-src 'none'" in page and not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    # The right values are not on the page's text, only in the data the script judges by.
    model = json.loads(re.search(r'<script id="model" type="application/json">(.*?)</script>', page, flags=re.S).group(1))
    assert set(model["key"]) >= set(asked) and "reveal" not in model


def test_reveal_puts_the_printed_values_in_the_page(tmp_path: Path) -> None:
    result = _run("worksheet", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "--format", "check", "--reveal", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "2-2-1-linear-mse" / "check.html").read_text(encoding="utf-8")
    model = json.loads(re.search(r'<script id="model" type="application/json">(.*?)</script>', page, flags=re.S).group(1))
    # z1 = 0.5 * 0.3 + 0.3 * 0.2 = 0.21 exactly, printed as the key prints it; w1' = 0.3 - 0.1 * dL/dw1
    assert model["reveal"]["z1"] == "0.21" and model["reveal"]["w1'"] == "0.302"


def test_a_symbolic_spec_has_no_check_page(tmp_path: Path) -> None:
    result = _run("worksheet", str(EXAMPLES / "1-1-1-symbolic.yaml"), "--format", "check", "-o", str(tmp_path))
    assert result.returncode == 2
    assert "--format check" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_format_names_check_among_the_choices(tmp_path: Path) -> None:
    result = _run("worksheet", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "--format", "chek", "-o", str(tmp_path))
    assert result.returncode == 2 and "check" in result.stderr


def test_a_circuit_s_page_states_its_given_values() -> None:
    """The given numbers of a graph are set as on its worksheet, one centred row each line
    (the worksheet's rows had reached the page as a nested list)."""
    import derive
    from derive.classroom.check import check_page

    problem = derive.load(EXAMPLES / "graph-residual-block.yaml")
    page = check_page(problem, "en")
    given = page[page.index("Given values"):page.index("</div>", page.index("Given values"))]
    numbers = re.findall(r"<mi>(\w+)</mi><mo>=</mo>(?:<mo form=\"prefix\">−</mo>)?<mn>([\d.]+)</mn>", given)
    assert [name for name, _ in numbers] == [*problem.spec.graph.leaves, "η"][:len(numbers)] and len(numbers) >= 4
