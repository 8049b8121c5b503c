"""A built problem: the validated spec, its network, policy, derivation and matrix form,
in one place so that every view (documents, key, grader) starts from the same object.

Nothing here reads a file: a spec with data files arrives with its samples already
loaded (derive/spec/files.py), and `derive.load` (derive/api.py) does the reading."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..spec.schema import SamplesFileSpec, Spec, SpecError, parse_spec
from .derivation import Derivation
from .network import Network, build_network
from .numeric import EvaluationError
from .policy import Policy
from .training import derive

if TYPE_CHECKING:
    import numpy as np

    from .matrix import MatrixForm


class NodeEvaluationError(SpecError, EvaluationError):
    """A graph's number that cannot be computed, worded as a mistake in the spec's node (its
    field named); still an EvaluationError to whoever draws versions and redraws on one."""


@dataclass
class Problem:
    spec: Spec
    origin: str  # the file it came from, or "spec" for a dict
    name: str  # folder name for outputs: the spec file's stem
    samples: tuple[np.ndarray, np.ndarray] | None = None  # data-file specs: inputs and targets, one column per sample

    @cached_property
    def network(self) -> Network:
        if self.spec.data is not None:
            raise SpecError(
                f"{self.origin}: data: this spec reads its inputs from files, so it has no per-weight derivation; "
                "use `derive worksheet SPEC --notation matrix` or `derive key SPEC --notation matrix`."
            )
        if self.spec.graph is not None:
            from .graph import build_circuit

            return build_circuit(self.spec)  # type: ignore[return-value]  # a Circuit reads as a Network to the derivation
        return build_network(self.spec, self.origin)

    @cached_property
    def policy(self) -> Policy:
        p = self.spec.precision
        return Policy(p.digits, p.mode, p.carry, p.rounding, self.spec.per_kind_digits())

    @cached_property
    def derivation(self) -> Derivation:
        if self.spec.graph is not None:
            from .graph import derive_graph

            try:
                return derive_graph(self.network, self.policy)  # type: ignore[arg-type]
            except EvaluationError as error:
                raise NodeEvaluationError(f"{self.origin}: {self._node_field(error.step_id)}: the numbers cannot be computed: {error}.") from None
        return derive(self.network, self.policy, self.origin)

    def _node_field(self, step_id: str | None) -> str:
        """The spec field of the graph node a failed step belongs to: its value, a local
        gradient of one of its gates, or its value after the update."""
        graph = self.spec.graph
        assert graph is not None
        gates = {gate.name: gate.node for gate in self.network.gates}  # type: ignore[attr-defined]
        name = (step_id or "").rstrip("'")
        if "/d" in name:  # a local gradient d{gate}/d{input}, or a gradient through the output
            name = name[1:name.index("/d")]
        node = gates.get(name, name)
        if graph.kinds.get(node) == "loss":
            return "graph.loss"
        index = next((i for i, (assigned, _) in enumerate(graph.assignments()) if assigned == node), None)
        return f"graph.nodes[{index}].{node}" if index is not None else "graph.nodes"

    @cached_property
    def matrix(self) -> MatrixForm:
        """The same network in matrix form: from the data files and the weight seed, or
        from the per-scalar network."""
        from .matrix import finite_or_refused, from_network, from_samples

        if self.spec.graph is not None:
            raise SpecError(f"{self.origin}: graph: a computational graph has no layers to write as matrices; "
                            "leave out --notation matrix (the scalar notation works the graph node by node).")

        if self.samples is not None:
            return finite_or_refused(from_samples(self.spec, *self.samples, self.origin))
        return finite_or_refused(from_network(self.network))

    @property
    def matrix_only(self) -> bool:
        """Inputs from files: only the matrix notation can show this problem."""
        return self.spec.data is not None

    def network_sizes(self) -> list[int]:
        return [len(self.network.inputs), *(len(layer) for layer in self.network.layers)]


def build(data: dict[str, Any], origin: str = "spec", name: str = "problem", samples: tuple[np.ndarray, np.ndarray] | None = None) -> Problem:
    """Validate a spec given as data and build its network now, so that structural
    mistakes surface at load time; raises SpecError on bad input."""
    spec = parse_spec(data, origin)
    if spec.data is not None and samples is None:
        raise SpecError(f"{origin}: data: the data files were not loaded; load the spec with derive.load(path).")
    if isinstance(spec.samples, SamplesFileSpec):
        raise SpecError(f"{origin}: samples.file: the samples file was not read; load the spec with derive.load(path).")
    problem = Problem(spec, origin, name, samples)
    if spec.data is None:
        problem.network  # noqa: B018 - build now so structural mistakes surface at load time
    return problem
