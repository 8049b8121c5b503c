"""The network picture a lecturer would draw: no edge label printed over another. Measured in
Chromium on the SVG itself (each label's box, rotated as drawn), for every shape and example."""

from __future__ import annotations

import html as html_module
import json
import re

import pytest

from derive.views.diagram import LABEL_POSITION, layout
from derive.views.documents import render_diagram

from ..shapes import all_problems

PROBLEMS = all_problems()

# Each <text> label's corners on the screen (its box before the rotation, mapped through the
# rotation), then every pair tested for overlap with the separating-axis test.
OVERLAP_PROBE = """<script>
window.addEventListener("load", () => {
  const svg = document.querySelector("svg");
  const corners = [...svg.querySelectorAll("text")].map((text) => {
    const box = text.getBBox(), matrix = text.getCTM();
    return [[box.x, box.y], [box.x + box.width, box.y], [box.x + box.width, box.y + box.height], [box.x, box.y + box.height]]
      .map(([x, y]) => { const p = svg.createSVGPoint(); p.x = x; p.y = y; const q = p.matrixTransform(matrix); return [q.x, q.y]; });
  });
  const texts = [...svg.querySelectorAll("text")].map((text) => text.textContent);
  const apart = (a, b) => [a, b].some((shape) => shape.some((p, i) => {
    const q = shape[(i + 1) % 4], nx = q[1] - p[1], ny = p[0] - q[0];
    const project = (s) => s.map(([x, y]) => x * nx + y * ny);
    const [pa, pb] = [project(a), project(b)];
    return Math.max(...pa) <= Math.min(...pb) + 0.5 || Math.max(...pb) <= Math.min(...pa) + 0.5;
  }));
  const clashes = [];
  for (let i = 0; i < corners.length; i++)
    for (let j = i + 1; j < corners.length; j++)
      if (texts[i].length > 1 && texts[j].length > 1 && !apart(corners[i], corners[j])) clashes.push(texts[i] + " / " + texts[j]);
  document.body.setAttribute("data-clashes", JSON.stringify(clashes));
});
</script>"""


def _clashes(svg: str, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    from .test_rendering import _chromium, needs_browser

    if needs_browser.args[0]:
        pytest.skip(needs_browser.kwargs["reason"])
    page = tmp_path / "diagram.html"
    page.write_text(f"<!DOCTYPE html><html><body>{svg}{OVERLAP_PROBE}</body></html>", encoding="utf-8")
    dom = _chromium(page.as_uri(), tmp_path, "--dump-dom", "--window-size=1400,1400")
    found = re.search(r'data-clashes="([^"]*)"', dom)
    assert found, "the probe did not run"
    return json.loads(html_module.unescape(found.group(1)))


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_no_edge_label_is_printed_over_another(name: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert _clashes(render_diagram(PROBLEMS[name]), tmp_path) == []


def test_the_probe_sees_labels_that_do_overlap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every label at the one old position: the 2-3-2 picture's labels ran into each other."""
    problem = PROBLEMS["2-3-2 tanh softmax cross-entropy, biases"]
    from derive.views.templating import _environment, _TARGETS

    drawn = layout(problem.network, with_values=True)
    drawn.edges[:] = [type(edge)(edge.source, edge.target, edge.latex, edge.text, LABEL_POSITION) for edge in drawn.edges]
    svg = _environment("svg").get_template(_TARGETS["svg"][0]).render(svg=drawn.svg())
    assert _clashes(svg, tmp_path) != []


def test_remembered_label_placements_are_the_ones_worked_out_afresh() -> None:
    """Label placements are remembered by the arrows' geometry and the labels' lengths
    (derive/views/diagram.py): each shape, laid out with the memory emptied, places every
    label where the warm layout does, with values and without."""
    from derive.views import diagram

    for name, problem in all_problems().items():
        for with_values in (True, False):
            warm = layout(problem.network, with_values)
            diagram._PLACEMENTS.clear()
            fresh = layout(problem.network, with_values)
            assert [edge.position for edge in warm.edges] == [edge.position for edge in fresh.edges], name
            assert warm == fresh, name
