"""The Python API: `derive.load(path_or_dict)` returns a `Problem`, the engine's built
problem with its views attached (`key()`, `document()`, and the displays Jupyter uses).

It sits above the views, so the dependency runs one way: the engine's problem knows
nothing of how it is printed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .engine import problem as engine
from .spec.files import read_samples, read_samples_file, read_spec_file
from .spec.schema import SamplesFileSpec, parse_spec


class Problem(engine.Problem):
    def key(self) -> dict[str, Any]:
        from .views.key import grading_key

        return grading_key(self)

    def _repr_markdown_(self) -> str:
        from .views.documents import render_markdown

        return render_markdown(self, "handout")

    def _repr_html_(self) -> str:
        """The handout as a notebook shows it: the HTML page's body, with the network
        drawn inline as SVG and no front matter, page style or script; its formulas are
        MathML, which the notebook's browser renders itself."""
        from .views.documents import render

        page = render(self, "handout", "html")
        body = page[page.index("<body>") + len("<body>"):page.rindex("</body>")]
        return f'<div class="derive-problem">{body.strip()}</div>'

    def _repr_latex_(self) -> str:
        from .views.documents import render_summary_latex

        return render_summary_latex(self)

    def document(self, kind: str = "handout", fmt: str = "md", language: str | None = None) -> str:
        """One document as text: kind handout | worksheet | key, fmt md | tex | html."""
        from .views.documents import render

        return render(self, kind, fmt, language)


def load(source: str | Path | dict[str, Any], chain: str | None = None) -> Problem:
    """Load and validate a spec from a file path or a dict; raises SpecError on bad input.
    Data files named by a spec (`data:`, a `samples:` file) are read relative to the spec's folder (a dict: the
    current folder). `chain` (auto | full | signals) overrides the spec's `chain:` the way
    the command line's --chain does: in the spec itself, so a key embeds the form it used."""
    if isinstance(source, dict):
        data, origin, name, folder = source, "spec", "problem", Path(".")
    else:
        path = Path(source)
        data, origin, name, folder = read_spec_file(path), str(path), path.stem, path.parent
    if chain is not None:
        data = {**data, "chain": chain}
    spec = parse_spec(data, origin)
    if isinstance(spec.samples, SamplesFileSpec):  # the rows inline, checked as written-out samples are
        spec = parse_spec({**data, "samples": read_samples_file(spec.samples, folder, origin)}, origin)
    samples = read_samples(spec, folder, origin) if spec.data is not None else None
    problem = Problem(spec, origin, name, samples)
    if spec.data is None:
        problem.network  # noqa: B018 - build now so structural mistakes surface at load time
    return problem
