"""The loss-per-iteration picture, drawn with matplotlib as SVG. matplotlib is imported
only here, and only for specs with more than one step, so other commands do not pay for it."""

from __future__ import annotations

import io


def loss_plot_svg(losses: list[float], loss_label: str, iteration_word: str) -> str:
    """Byte-identical for the same losses: no date in the metadata, a fixed id salt, and
    text kept as text (the browser's fonts draw Korean; no glyphs are embedded)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    with matplotlib.rc_context({"svg.hashsalt": "derive", "svg.fonttype": "none", "font.size": 11}):
        figure, axes = pyplot.subplots(figsize=(5.0, 3.0))
        iterations = list(range(len(losses)))
        axes.plot(iterations, losses, marker="o", color="#1f4e99")
        axes.set_xlabel(iteration_word)
        axes.set_ylabel(loss_label)
        axes.set_xticks(iterations if len(iterations) <= 20 else iterations[:: max(1, len(iterations) // 10)])
        axes.grid(alpha=0.3)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
        pyplot.close(figure)
    return buffer.getvalue()
