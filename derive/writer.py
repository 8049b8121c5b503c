"""The output writer: everything `derive worksheet`, `variants` and `grade` write. The
documents in each format and kind, the pictures beside them, the keys, a class's versions
and its grades are all made in memory first (by the views and the classroom) and written
here only when complete, so a TeX error never leaves half a set behind."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .views.documents import DIAGRAM_FILE, MATHJAX_URL, PLOT_FILE, render_diagram, render_formats, render_loss_plot
from .output import check_folder, write_all

if TYPE_CHECKING:
    from .classroom.batch import VersionOutput
    from .classroom.grading import GradingKey, StudentResult
    from .classroom.variants import Variant
    from .engine.problem import Problem


def document_files(
    problem: Problem,
    formats: list[str],
    kinds: list[str],
    language: str | None,
    *,
    mathjax_url: str = MATHJAX_URL,
    user_templates: Path | None = None,
    notation: str = "scalar",
    blank: str = "numbers",
    iterations: str = "first",
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, bytes], list[str]]:
    """File name -> bytes, and notes for the user (such as a PDF skipped for want of TeX)."""
    from .views.key import key_json
    from .views.pdf import TexMissing, compile_pdf

    files: dict[str, bytes] = {}
    notes: list[str] = []
    if notation == "matrix":
        return _matrix_files(problem, formats, language, mathjax_url, echo)
    if "md" in formats:
        files[DIAGRAM_FILE] = render_diagram(problem, "handout").encode()
        plot = render_loss_plot(problem, language)
        if plot is not None:
            files[PLOT_FILE] = plot.encode()
    wanted = [*formats, "tex"] if "pdf" in formats else formats  # a PDF is compiled from the .tex
    for kind in kinds:
        texts = render_formats(problem, kind, wanted, language, mathjax_url, user_templates=user_templates, blank=blank,
                               iterations=iterations)
        for fmt, text in texts.items():
            if fmt in formats:
                files[f"{kind}.{fmt}"] = text.encode()
        if "pdf" in formats and not notes:
            echo(f"  compiling {kind}.pdf with XeLaTeX ...")
            try:
                files[f"{kind}.pdf"] = compile_pdf(texts["tex"], kind)
            except TexMissing as missing:
                notes.append(f"note: PDFs skipped: {missing}.")
    files["key.json"] = key_json(problem).encode()
    return files, notes


def _matrix_files(
    problem: Problem, formats: list[str], language: str | None, mathjax_url: str, echo: Callable[[str], None]
) -> tuple[dict[str, bytes], list[str]]:
    """The matrix-notation handout: matrix.md, matrix.tex, matrix.pdf and matrix.html."""
    from .views.documents import render_matrix
    from .views.pdf import TexMissing, compile_pdf

    files: dict[str, bytes] = {}
    notes: list[str] = []
    if "md" in formats:
        files["matrix.md"] = render_matrix(problem, "md", language).encode()
    if "tex" in formats or "pdf" in formats:
        tex = render_matrix(problem, "tex", language)
        if "tex" in formats:
            files["matrix.tex"] = tex.encode()
        if "pdf" in formats:
            echo("  compiling matrix.pdf with XeLaTeX ...")
            try:
                files["matrix.pdf"] = compile_pdf(tex, "matrix")
            except TexMissing as missing:
                notes.append(f"note: PDFs skipped: {missing}.")
    if "html" in formats:
        files["matrix.html"] = render_matrix(problem, "html", language, mathjax_url).encode()
    return files, notes


def write_documents(
    problem: Problem,
    output: Path,
    formats: list[str],
    kinds: list[str],
    language: str | None,
    *,
    force: bool = False,
    mathjax_url: str = MATHJAX_URL,
    user_templates: Path | None = None,
    notation: str = "scalar",
    blank: str = "numbers",
    iterations: str = "first",
    echo: Callable[[str], None] = print,
) -> list[Path]:
    folder = output / problem.name
    check_folder(folder, force)
    files, notes = document_files(
        problem, formats, kinds, language, mathjax_url=mathjax_url, user_templates=user_templates, notation=notation, blank=blank, iterations=iterations,
        echo=echo
    )
    paths = write_all(folder, files)
    for path in paths:
        echo(f"  {path}")
    for note in notes:
        echo(note)
    return paths


def grade_files(results: list[StudentResult], key: GradingKey, language: str | None, mathjax_url: str = MATHJAX_URL) -> dict[str, bytes]:
    """grades.csv and grades.json (every row), feedback/<student>.{md,html} (one per student
    counted: an ungradable row gets none, since its page would have nothing to say but an
    instructor's message, and a student's other rows under --duplicates last or best get
    none), summary.md and histogram.svg (the rows that count)."""
    from .views.plot import score_histogram_svg
    from .classroom.reports import FeedbackWriter, grades_csv, results_json, safe_file_name, summary_markdown

    language = language or key.language
    files = {
        "grades.csv": grades_csv(results, key.item_ids).encode("utf-8"),
        "grades.json": results_json(results).encode("utf-8"),
    }
    used: set[str] = set()
    feedback = FeedbackWriter(key.latex, language, mathjax_url)
    for result in results:
        if not result.graded:
            continue
        name = safe_file_name(result.student)
        while name in used:
            name += "_"
        used.add(name)
        for fmt in ("md", "html"):
            files[f"feedback/{name}.{fmt}"] = feedback.page(result, fmt).encode("utf-8")
    files["summary.md"] = summary_markdown(results, key.item_ids, key.latex, language).encode("utf-8")
    scores = [result.score for result in results if result.graded]
    files["histogram.svg"] = score_histogram_svg(scores, language).encode("utf-8")
    return files


def write_variants(
    variants: list[Variant],
    output: Path,
    formats: list[str],
    language: str | None,
    *,
    force: bool = False,
    mathjax_url: str = MATHJAX_URL,
    workers: int | None = None,
    progress: Callable[[Iterable[VersionOutput]], Iterable[VersionOutput]] = lambda items: items,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    from .classroom.batch import variant_files

    folder = output / f"{variants[0].problem.name}-variants"
    check_folder(folder, force)
    files, notes = variant_files(variants, formats, language, mathjax_url=mathjax_url, workers=workers, progress=progress, echo=echo)
    paths = write_all(folder, files)
    for note in notes:
        echo(note)
    return paths
