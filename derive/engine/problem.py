"""A loaded problem: the validated spec, its network, policy and derivation, in one place
so that every view (documents, key, grader) starts from the same object."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .derivation import Derivation, derive
from .network import Network, build_network
from .policy import Policy
from ..spec.schema import Spec, SpecError, parse_spec, read_spec_file


@dataclass
class Problem:
    spec: Spec
    origin: str  # the file it came from, or "spec" for a dict
    name: str  # folder name for outputs: the spec file's stem

    @cached_property
    def network(self) -> Network:
        if self.spec.data is not None:
            raise SpecError(
                f"{self.origin}: data: this spec reads its inputs from files, so it has no per-weight derivation; "
                "use `derive worksheet SPEC --notation matrix`."
            )
        return build_network(self.spec, self.origin)

    @cached_property
    def policy(self) -> Policy:
        p = self.spec.precision
        return Policy(p.digits, p.mode, p.carry, p.rounding, self.spec.per_kind_digits())

    @cached_property
    def derivation(self) -> Derivation:
        return derive(self.network, self.policy)

    @property
    def matrix_only(self) -> bool:
        """Inputs from files: only the matrix notation can show this problem."""
        return self.spec.data is not None

    def network_sizes(self) -> list[int]:
        return [len(self.network.inputs), *(len(layer) for layer in self.network.layers)]

    def key(self) -> dict[str, Any]:
        from ..views.key import grading_key

        return grading_key(self)

    def _repr_markdown_(self) -> str:
        from ..views.documents import render_markdown

        return render_markdown(self, "handout")

    def _repr_latex_(self) -> str:
        from ..views.documents import render_summary_latex

        return render_summary_latex(self)

    def document(self, kind: str = "handout", fmt: str = "md", language: str | None = None) -> str:
        """One document as text: kind handout | worksheet | key, fmt md | tex | html."""
        from ..views.documents import render

        return render(self, kind, fmt, language)


def load(source: str | Path | dict[str, Any]) -> Problem:
    """Load and validate a spec from a file path or a dict; raises SpecError on bad input."""
    if isinstance(source, dict):
        spec = parse_spec(source)
        problem = Problem(spec, "spec", "problem")
    else:
        path = Path(source)
        spec = parse_spec(read_spec_file(path), str(path))
        problem = Problem(spec, str(path), path.stem)
    if spec.data is None:
        problem.network  # noqa: B018 - build now so structural mistakes surface at load time
    return problem
