"""The output writer: everything `derive worksheet`, `variants` and `grade` write. The
documents in each format and kind, the pictures beside them, the keys, a class's versions
and its grades are all made in memory first (by the views and the classroom) and written
here only when complete, so a TeX error never leaves half a set behind."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .views.documents import MATHJAX_URL, PLOT_FILE, diagram_files, render_formats, render_loss_plot
from .output import check_folder, write_all

if TYPE_CHECKING:
    from .classroom.batch import VersionOutput
    from .classroom.gradebook import Row, Setup
    from .classroom.reports import Tally
    from .classroom.variants import Student, Variant
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
    reveal: bool = False,
    slides_all: bool = False,
    iterations: str = "first",
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, bytes], list[str]]:
    """File name -> bytes, and notes for the user (such as a PDF skipped for want of TeX).
    The `check` format is the self-check page, check.html, whatever the kinds."""
    from .views.key import key_json
    from .views.pdf import TexMissing, compile_pdf

    files: dict[str, bytes] = {}
    notes: list[str] = []
    if "slides" in formats and notation == "matrix":
        from .spec.schema import SpecError

        raise SpecError("--format slides: the slides work the per-weight derivation of a layered network, which --notation matrix "
                        "does not have; leave slides out of --format.")
    if "check" in formats:
        from .classroom.check import check_page  # the grader it re-uses is 30 ms of a start-up otherwise

        files["check.html"] = check_page(problem, language or problem.spec.language, reveal=reveal).encode()
        formats = [fmt for fmt in formats if fmt != "check"]
    if notation == "matrix":
        matrix_files, notes = _matrix_files(problem, formats, language, mathjax_url, echo)
        return {**files, **matrix_files}, notes
    if "md" in formats:
        files.update(diagram_files(problem, kinds))
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
    if "slides" in formats:
        from .views.slides_render import slide_files

        echo("  compiling slides.pdf with XeLaTeX ...")
        slides, slide_notes = slide_files(problem, language, mathjax_url, every=slides_all, user_templates=user_templates,
                                          iterations=iterations)
        files.update(slides)
        notes += slide_notes
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
    reveal: bool = False,
    slides_all: bool = False,
    iterations: str = "first",
    echo: Callable[[str], None] = print,
) -> list[Path]:
    folder = output / problem.name
    check_folder(folder, force)
    files, notes = document_files(
        problem, formats, kinds, language, mathjax_url=mathjax_url, user_templates=user_templates, notation=notation, blank=blank,
        iterations=iterations, reveal=reveal, slides_all=slides_all, echo=echo,
    )
    paths = write_all(folder, files)
    for path in paths:
        echo(f"  {path}")
    for note in notes:
        echo(note)
    return paths


def write_grades(
    output: Path,
    setup: Setup,
    rows: Iterable[Row],
    count: int,
    language: str,
    *,
    workers: int | None = None,
    entries: list[str] | None = None,
    advance: Callable[[int], None] = lambda rows: None,
) -> Tally:
    """grades.csv and grades.json (every row), feedback/<student>.md and/or .html (as
    `setup.feedback` asks: one per student counted; an ungradable row gets none, since its
    page would have nothing to say but an instructor's message, and a student's other rows
    under --duplicates last or best get none), summary.md and histogram.svg (the rows that
    count). grades.csv, grades.json and the pages are written as the rows are graded, so a
    course's rows are never all held; `entries` collects grades.json's rows if given."""
    from .views.plot import score_histogram_svg
    from .classroom.gradebook import graded_chunks
    from .classroom.reports import JSON_END, JSON_SEPARATOR, JSON_START, Tally, grades_csv_header, safe_file_name, summary_markdown

    key = setup.grader.key
    tally = Tally(key.item_ids)

    def produce(open_new: Callable[[str], BinaryIO]) -> dict[str, bytes]:
        used: set[str] = set()
        with open_new("grades.csv") as grades, open_new("grades.json") as students:
            grades.write(grades_csv_header(key.item_ids).encode("utf-8"))
            students.write(JSON_START.encode("utf-8"))
            separator = ""
            for chunk in graded_chunks(setup, rows, count, workers):
                grades.write("".join(chunk.lines).encode("utf-8"))
                students.write((separator + JSON_SEPARATOR.join(chunk.entries)).encode("utf-8"))
                separator = JSON_SEPARATOR
                if entries is not None:
                    entries.extend(chunk.entries)
                for page in chunk.pages:
                    if page is None:
                        continue
                    student, texts = page
                    name = safe_file_name(student)
                    while name in used:
                        name += "_"
                    used.add(name)
                    for fmt, text in texts.items():
                        with open_new(f"feedback/{name}.{fmt}") as file:
                            file.write(text.encode("utf-8"))
                tally.merge(chunk.tally)
                advance(len(chunk.lines))
            students.write(JSON_END.encode("utf-8"))
        return {
            "summary.md": summary_markdown(tally, key.latex, language).encode("utf-8"),
            "histogram.svg": score_histogram_svg(tally.scores, language).encode("utf-8"),
        }

    write_all(output, produce)
    return tally


def write_variants(
    problem: Problem,
    count: int,
    seed: int,
    roster: list[Student] | None,
    output: Path,
    formats: list[str],
    language: str | None,
    *,
    force: bool = False,
    mathjax_url: str = MATHJAX_URL,
    workers: int | None = None,
    reveal: bool = False,
    slides_all: bool = False,
    progress: Callable[[Iterable[VersionOutput]], Iterable[VersionOutput]] = lambda items: items,
    echo: Callable[[str], None] = print,
) -> tuple[list[Variant], list[Path]]:
    """Draws the class's versions and writes their files (the folder is checked first, so a
    refusal comes before the work)."""
    from .classroom.batch import drawn_variant_files

    folder = output / f"{problem.name}-variants"
    check_folder(folder, force)
    variants, files, notes = drawn_variant_files(problem, count, seed, roster, formats, language, mathjax_url=mathjax_url, workers=workers,
                                                 reveal=reveal, slides_all=slides_all, progress=progress, echo=echo)
    paths = write_all(folder, files)
    for note in notes:
        echo(note)
    return variants, paths
