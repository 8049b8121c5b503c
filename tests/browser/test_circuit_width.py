"""A graph's HTML pages fit an 800 px wide window in real Chromium (Playwright, Debian's
/usr/bin/chromium): the page itself never scrolls sideways, and anything wider than its
column (a long formula, a wide circuit) scrolls inside a box of its own that fits. Checked
on every graph example and on a 30-gate random graph, handout, worksheet and key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import derive

from ..conftest import EXAMPLES
from ..views.test_circuit import thirty_gates

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
WIDTH = 800


def test_the_deep_circuit_has_30_gates() -> None:
    assert len(derive.load(thirty_gates()).network.gates) == 30


SPECS: dict[str, Any] = {path.name: path for path in sorted(EXAMPLES.glob("graph-*.yaml"))}
SPECS["30 gates"] = thirty_gates()

# Every element wider than the window must sit in an ancestor that scrolls sideways and fits.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const bad = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || (box.right <= width + 0.5 && box.left >= -0.5)) continue;
    let holder = element.parentElement, held = false;
    while (holder && holder !== document.body) {
      const style = getComputedStyle(holder);
      const frame = holder.getBoundingClientRect();
      if (['auto', 'scroll'].includes(style.overflowX) && frame.left >= -0.5 && frame.right <= width + 0.5) { held = true; break; }
      holder = holder.parentElement;
    }
    if (!held) bad.push(element.tagName + ' ' + Math.round(box.left) + '..' + Math.round(box.right));
  }
  return {scroll: document.documentElement.scrollWidth, width, bad: bad.slice(0, 5)};
}"""


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser.new_context(offline=True, viewport={"width": WIDTH, "height": 900}).new_page()
        browser.close()


@pytest.mark.parametrize("name", sorted(SPECS))
def test_circuit_pages_fit_800_px(page: Any, name: str, tmp_path: Path) -> None:
    problem = derive.load(SPECS[name])
    for kind in ("handout", "worksheet", "key"):
        path = tmp_path / f"{kind}.html"
        path.write_text(problem.document(kind, "html"), encoding="utf-8")
        page.goto(path.as_uri())
        found = page.evaluate(OVERFLOW)
        assert found["scroll"] <= WIDTH and not found["bad"], (kind, found)
        assert page.locator("figure svg").count() == 1
