"""Seed 004's argument for backpropagation, for any layer sizes: how many operations one
gradient costs by numerical differentiation (one more pass over the data per parameter)
and by backpropagation (one forward and one backward pass), and how long each takes.

Operations are counted as the seed counts them: one per weight per sample for a forward
pass (biases and activations left out). A backward pass costs two per weight (the error
signal sent back and the weight's own gradient), so backpropagation is three forward
passes' worth.

A computational graph (`derive cost SPEC` with a `graph:` spec) is counted the same way:
one operation per gate input (an edge of the circuit, as a weight is an edge of a network),
two per edge backwards (upstream x local, then added into the sum), and one more loss per
asked leaf for numerical differentiation."""

from __future__ import annotations

from dataclasses import dataclass

BACKWARD_PER_FORWARD = 2


class _Counting:
    """One gradient's cost from what a kind of model sets: the operations of one sample's
    forward pass, and how many derivatives numerical differentiation nudges for."""

    samples: int
    rate: float

    @property
    def forward_per_sample(self) -> int:
        raise NotImplementedError

    @property
    def nudged(self) -> int:
        raise NotImplementedError

    @property
    def loss_over_data(self) -> int:
        return self.forward_per_sample * self.samples

    @property
    def numerical(self) -> int:
        """One loss at the point and one per nudged parameter (or leaf), as the seed counts."""
        return self.loss_over_data * (self.nudged + 1)

    @property
    def backprop(self) -> int:
        return self.loss_over_data * (1 + BACKWARD_PER_FORWARD)


@dataclass(frozen=True)
class Cost(_Counting):
    sizes: tuple[int, ...]
    samples: int
    rate: float  # operations per second

    @property
    def weights(self) -> int:
        return sum(a * b for a, b in zip(self.sizes, self.sizes[1:]))

    @property
    def biases(self) -> int:
        return sum(self.sizes[1:])

    @property
    def parameters(self) -> int:
        return self.weights + self.biases

    @property
    def forward_per_sample(self) -> int:
        return self.weights

    @property
    def nudged(self) -> int:
        return self.parameters

    def title(self, language: str) -> str:
        return WORDS[language]["title"].format(sizes="-".join(str(size) for size in self.sizes), samples=self.samples, rate=self.rate)

    def counts(self, language: str) -> list[tuple[str, int]]:
        words = WORDS[language]
        return [(words["weights"], self.weights), (words["biases"], self.biases), (words["forward"], self.forward_per_sample)]


@dataclass(frozen=True)
class CircuitCost(_Counting):
    """The same argument for a computational graph: its gates, edges and asked leaves."""

    name: str  # the spec's title
    gates: int
    edges: int  # gate inputs: one operation each forwards, as a network's weights
    asked: int  # the leaves whose gradients are asked: one more loss each, numerically
    samples: int
    rate: float

    @property
    def forward_per_sample(self) -> int:
        return self.edges

    @property
    def nudged(self) -> int:
        return self.asked

    def title(self, language: str) -> str:
        return WORDS[language]["circuit_title"].format(name=self.name, samples=self.samples, rate=self.rate)

    def counts(self, language: str) -> list[tuple[str, int]]:
        words = WORDS[language]
        return [(words["gates"], self.gates), (words["asked"], self.asked), (words["edges"], self.edges)]


WORDS = {
    "ko": {
        "title": "신경망 {sizes}의 기울기 한 번 계산 비용 (데이터 {samples:,}개, 초당 {rate:,.0f}번 연산)",
        "weights": "연결가중치 개수", "biases": "편향 개수", "forward": "한 개의 데이터 손실계산 (가중치만 고려)",
        "loss": "데이터 전체의 손실 한 번", "numerical": "수치 미분: 파라미터마다 손실을 한 번씩 더",
        "backprop": "역전파: 순전파 한 번 + 역전파 한 번", "ops": "연산", "time": "시간", "ratio": "역전파가 {ratio:,.0f}배 빠릅니다.",
        "circuit_title": "계산 그래프 「{name}」의 기울기 한 번 계산 비용 (데이터 {samples:,}개, 초당 {rate:,.0f}번 연산)",
        "no_saving": "기울기를 구할 변수가 적어 수치 미분이 역전파보다 {ratio:,.1f}배 싸거나 같습니다.",
        "gates": "게이트 개수", "asked": "기울기를 구할 변수 개수", "edges": "한 개의 데이터 출력계산 (게이트 입력마다 한 번)",
    },
    "en": {
        "title": "Cost of one gradient of a {sizes} network ({samples:,} samples, {rate:,.0f} operations per second)",
        "weights": "weights", "biases": "biases", "forward": "loss of one sample (weights only)",
        "loss": "loss over the whole data set", "numerical": "numerical differentiation: one more loss per parameter",
        "backprop": "backpropagation: one forward and one backward pass", "ops": "operations", "time": "time",
        "ratio": "Backpropagation is {ratio:,.0f} times faster.",
        "circuit_title": "Cost of one gradient of the graph “{name}” ({samples:,} samples, {rate:,.0f} operations per second)",
        "no_saving": "With so few leaves asked, numerical differentiation costs no more than backpropagation ({ratio:,.1f} times less).",
        "gates": "gates", "asked": "leaves whose gradients are asked", "edges": "output of one sample (one per gate input)",
    },
}


def duration(seconds: float, language: str) -> str:
    """445,636 s -> '445,636 s (123.8 h)', as the seed states it (in hours up to 1,000)."""
    hours, days, years = seconds / 3600, seconds / 86400, seconds / (86400 * 365)
    unit = {"ko": ("초", "시간", "일", "년"), "en": ("s", "h", "days", "years")}[language]
    text = f"{seconds:,.1f} {unit[0]}" if seconds < 100 else f"{seconds:,.0f} {unit[0]}"
    if years >= 1:
        return f"{text} ({years:,.1f} {unit[3]})"
    if hours >= 1000:
        return f"{text} ({days:,.1f} {unit[2]})"
    if hours >= 1:
        return f"{text} ({hours:,.1f} {unit[1]})"
    return text


def cost_table(cost: Cost | CircuitCost, language: str) -> str:
    words = WORDS[language]
    rows = [(label, f"{count:,}", "") for label, count in cost.counts(language)]
    rows += [
        (words["loss"], f"{cost.loss_over_data:,}", duration(cost.loss_over_data / cost.rate, language)),
        (words["numerical"], f"{cost.numerical:,}", duration(cost.numerical / cost.rate, language)),
        (words["backprop"], f"{cost.backprop:,}", duration(cost.backprop / cost.rate, language)),
    ]
    label_width = max(_width(label) for label, _, _ in rows)
    number_width = max(len(number) for _, number, _ in rows)
    lines = [cost.title(language), ""]
    for label, number, time in rows:
        lines.append(f"{label}{' ' * (label_width - _width(label))}  {number:>{number_width}}  {time}".rstrip())
    ratio = cost.numerical / cost.backprop
    if ratio > 1:
        lines += ["", words["ratio"].format(ratio=ratio).replace(f"{ratio:,.0f}", f"{ratio:,.1f}" if ratio < 10 else f"{ratio:,.0f}")]
    else:  # a circuit with one or two asked leaves: nudging each costs no more than a backward pass
        lines += ["", words["no_saving"].format(ratio=1 / ratio)]
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Terminal columns: Hangul takes two."""
    return sum(2 if "\uac00" <= char <= "\ud7a3" else 1 for char in text)
