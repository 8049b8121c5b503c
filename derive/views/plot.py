"""Pictures drawn with matplotlib as SVG: the loss per iteration and a class's scores.
matplotlib is imported only here, and only when a picture is asked for, so other
commands do not pay for it.

Every SVG is byte-identical for the same data: no date in the metadata, a fixed id salt,
and text kept as text (the reader's fonts draw it; Korean falls back to Nanum)."""

from __future__ import annotations

import functools
import io
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

STYLE = {
    "svg.hashsalt": "derive",
    "svg.fonttype": "none",
    "font.size": 11,
    "font.family": ["DejaVu Sans", "NanumGothic", "NanumBarunGothic"],
}
HANGUL_FAMILIES = ("NanumGothic", "NanumBarunGothic")
# Where fonts-nanum (Debian, Ubuntu), a user's own install, Homebrew and Windows put the files:
# matplotlib's font list is cached on first use, so a font installed after it is found by file.
FONT_DIRS = ("/usr/share/fonts/truetype/nanum", "/usr/share/fonts/nanum", "/usr/share/fonts/naver-nanum",
             "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts", "~/Library/Fonts",
             "/Library/Fonts", "C:/Windows/Fonts")
NO_HANGUL_NOTE = ("note: no Nanum font found, so the plots' Korean labels may not show "
                  "(Debian/Ubuntu: sudo apt-get install fonts-nanum).")


@functools.cache
def _hangul_font() -> bool:
    """Whether matplotlib can draw Hangul: a Nanum family it knows, or one added here by file."""
    from matplotlib import font_manager

    def known() -> bool:
        return any(font.name in HANGUL_FAMILIES for font in font_manager.fontManager.ttflist)

    if not known():
        for directory in FONT_DIRS:
            for path in sorted(Path(directory).expanduser().glob("Nanum*.ttf")):
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    pass
    return known()


@functools.cache
def _say_no_hangul() -> None:
    print(NO_HANGUL_NOTE, file=sys.stderr)


def _has_hangul(*texts: str) -> bool:
    return any("\uac00" <= char <= "\ud7a3" or "\u3131" <= char <= "\u318e" for text in texts for char in text)


def _svg(draw: Callable[[Any], None], *labels: str) -> str:
    """The figure `draw` makes, as SVG. Without a Nanum font, Korean labels still come out
    as text in the SVG, which the reader's browser draws; matplotlib's own warnings about
    measuring them (one per label and family) are replaced by one sentence, said once."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    if not _hangul_font() and _has_hangul(*labels):
        _say_no_hangul()
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)  # "findfont: Font family ... not found", for a family not installed
    try:
        with matplotlib.rc_context(STYLE), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
            warnings.filterwarnings("ignore", message="findfont")
            figure, axes = pyplot.subplots(figsize=(5.0, 3.0))
            draw(axes)
            figure.tight_layout()
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None})
            pyplot.close(figure)
    finally:
        font_log.setLevel(level)
    return buffer.getvalue()


def loss_plot_svg(losses: list[float], loss_label: str, iteration_word: str) -> str:
    def draw(axes: Any) -> None:
        iterations = list(range(len(losses)))
        axes.plot(iterations, losses, marker="o", color="#1f4e99")
        axes.set_xlabel(iteration_word)
        axes.set_ylabel(loss_label)
        axes.set_xticks(iterations if len(iterations) <= 20 else iterations[:: max(1, len(iterations) // 10)])
        axes.grid(alpha=0.3)

    return _svg(draw, loss_label, iteration_word)


def score_histogram_svg(scores: list[float], language: str) -> str:
    """Scores in ten bins of 10 points."""
    def draw(axes: Any) -> None:
        axes.hist(scores, bins=[10 * i for i in range(11)], color="#1f4e99", edgecolor="white")
        axes.set_xlabel(words[0])
        axes.set_ylabel(words[1])
        axes.set_xlim(0, 100)

    words = ("점수", "학생 수") if language == "ko" else ("score", "students")
    return _svg(draw, *words)
