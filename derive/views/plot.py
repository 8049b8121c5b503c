"""Pictures drawn with matplotlib as SVG: the loss per iteration and a class's scores.
matplotlib is imported only here, and only when a picture is asked for, so other
commands do not pay for it.

Every SVG is byte-identical for the same data: no date in the metadata, a fixed id salt,
and text kept as text (the reader's fonts draw it; Korean falls back to Nanum)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

STYLE = {
    "svg.hashsalt": "derive",
    "svg.fonttype": "none",
    "font.size": 11,
    "font.family": ["DejaVu Sans", "NanumGothic", "NanumBarunGothic"],
}


def _svg(draw: Callable[[Any], None]) -> str:
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    with matplotlib.rc_context(STYLE), warnings.catch_warnings():
        # Without Nanum installed, Korean labels still come out as text in the SVG, which
        # the browser draws; matplotlib's warning about measuring them is noise here.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        warnings.filterwarnings("ignore", message="findfont")
        figure, axes = pyplot.subplots(figsize=(5.0, 3.0))
        draw(axes)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        pyplot.close(figure)
    return buffer.getvalue()


def loss_plot_svg(losses: list[float], loss_label: str, iteration_word: str) -> str:
    def draw(axes: Any) -> None:
        iterations = list(range(len(losses)))
        axes.plot(iterations, losses, marker="o", color="#1f4e99")
        axes.set_xlabel(iteration_word)
        axes.set_ylabel(loss_label)
        axes.set_xticks(iterations if len(iterations) <= 20 else iterations[:: max(1, len(iterations) // 10)])
        axes.grid(alpha=0.3)

    return _svg(draw)


def score_histogram_svg(scores: list[float], language: str) -> str:
    """Scores in ten bins of 10 points."""
    def draw(axes: Any) -> None:
        axes.hist(scores, bins=[10 * i for i in range(11)], color="#1f4e99", edgecolor="white")
        axes.set_xlabel("점수" if language == "ko" else "score")
        axes.set_ylabel("학생 수" if language == "ko" else "students")
        axes.set_xlim(0, 100)

    return _svg(draw)
