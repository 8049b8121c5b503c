"""The command line. Each command imports only what it needs, so `derive key` does not pay
for Jinja2 and `derive cost` pays for nothing."""

from __future__ import annotations

import gc
import signal
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any

import click

DEFAULT_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "2-2-1-linear-mse.yaml"


# The backward pass's form, for every command that derives: overrides the spec's `chain:`.
chain_option = click.option(
    "--chain", type=click.Choice(["auto", "full", "signals"]), default=None,
    help="full: every path of chain factors written out; signals: each unit's error signal once, "
         "each gradient as signal x input; auto: full when every gradient has one short path (default: the spec's chain:).",
)


def _user_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """A mistake in the user's input ends in one message and exit status 2, never a traceback."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from .engine.numeric import EvaluationError
        from .output import OutputError
        from .views.pdf import TexFailure
        from .spec.schema import SpecError

        try:
            return command(*args, **kwargs)
        except SpecError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except EvaluationError as error:
            click.echo(f"error: the numbers cannot be computed: {error}.", err=True)
            sys.exit(2)
        except OutputError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except jinja2_errors() as error:
            click.echo(f"error: a template failed: {error}", err=True)
            sys.exit(2)
        except TexFailure as error:
            click.echo(f"error: {error}\nNothing was written.", err=True)
            sys.exit(1)

    return run


def jinja2_errors() -> tuple[type[Exception], ...]:
    """A user's template that is broken or tries something the sandbox forbids."""
    from jinja2 import TemplateError

    return (TemplateError,)


def _mathjax_ignored(context: click.Context, parameter: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        click.echo("note: --mathjax is ignored and will be removed: HTML pages now show their math as MathML, "
                   "which the browser renders with no script and no network.", err=True)
    return value


# Deprecated: HTML pages loaded MathJax (from the CDN, or this URL); they now carry MathML and
# load nothing. Accepted with a note, so scripts that pass it keep working; hidden from --help.
mathjax_option = click.option("--mathjax", "mathjax_url", default=None, hidden=True, callback=_mathjax_ignored)

reveal_option = click.option("--reveal", is_flag=True, help="The self-check page (--format check) shows the right value of a wrong answer.")

MAX_WORKSHEET_PARAMETERS = 200

slides_all_option = click.option(
    "--slides-all", is_flag=True,
    help="Slides: derive every parameter on its own slides, past the seeds' size and past 200 pages too.",
)


def _small_enough(problem: Any) -> Any:
    """A worksheet writes a chain-rule derivation per parameter: past a few hundred it is
    thousands of lines nobody can use, and minutes of work. Refuse early, with a way out."""
    from .spec.schema import SpecError

    count = len(problem.network.parameters)
    if count > MAX_WORKSHEET_PARAMETERS:
        raise SpecError(
            f"{problem.origin}: layers: this network has {count} parameters; a worksheet derives each one by hand, "
            f"so at most {MAX_WORKSHEET_PARAMETERS} are allowed. Use --notation matrix for the layer-by-layer form; "
            f"`derive key` still computes every gradient, and "
            f"`derive cost {' '.join(str(n) for n in problem.network_sizes())}` shows what backpropagation saves."
        )
    return problem


def _split(value: str, allowed: tuple[str, ...], option: str) -> list[str]:
    chosen = [part.strip() for part in value.split(",") if part.strip()]
    for part in chosen:
        if part not in allowed:
            raise click.BadParameter(f"'{part}' is not one of {', '.join(allowed)}.", param_hint=option)
    return chosen


@click.group()
@click.version_option(package_name="derive")
def main() -> None:
    """Worked forward- and backward-propagation examples, derived symbolically."""


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the key to this file (.json, or .npz for the matrix key's arrays) instead of printing it.")
@click.option("--notation", type=click.Choice(["scalar", "matrix"]), default=None,
              help="scalar: every step of the per-weight derivation; matrix: W, dL/dW, b, ... per layer (default for data-file specs).")
@chain_option
@_user_errors
def key(spec: Path, output: Path | None, notation: str | None, chain: str | None) -> None:
    """Print the grading key of SPEC as JSON."""
    from .api import load
    from .output import write_bytes_atomic
    from .views.key import key_json, matrix_key_json, matrix_key_npz

    problem = load(spec, chain)
    matrix = notation == "matrix" or (notation is None and problem.matrix_only)
    if output is not None and output.suffix.lower() == ".npz":
        if not matrix:
            raise click.BadParameter("an .npz file holds the matrix key; add --notation matrix.", param_hint="-o")
        data = matrix_key_npz(problem)
    else:
        data = (matrix_key_json(problem) if matrix else key_json(problem)).encode("utf-8")
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        write_bytes_atomic(output, data)
        click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("spec", required=False, type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["ko", "en"]), help="Language of the documents (default: the spec's).")
@click.option("--format", "formats", default="md,tex,pdf,html", show_default=True,
              help="Comma-separated: md, tex, pdf, html, check (check.html, the self-check page), slides (lecture slides: slides.tex, slides.pdf, slides.html).")
@click.option("--kind", "kinds", default="handout,worksheet,key", show_default=True, help="Comma-separated: handout, worksheet, key.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("output"), show_default=True, help="Folder for the documents.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder that derive did not create.")
@mathjax_option
@click.option("--templates", "user_templates", type=click.Path(path_type=Path, exists=True, file_okay=False), help="Your own templates (same names as derive/templates/), rendered in Jinja's sandbox.")
@click.option("--notation", type=click.Choice(["scalar", "matrix"]), default="scalar", show_default=True,
              help="scalar: one chain-rule derivation per weight; matrix: layer by layer (W, delta), for any size.")
@click.option("--blank", type=click.Choice(["numbers", "steps"]), default="numbers", show_default=True,
              help="What the worksheet leaves blank: numbers (the values), or steps (the derivative lines too, for an exam).")
@click.option("--iterations", type=click.Choice(["first", "all"]), default="first", show_default=True,
              help="With steps > 1: which iterations are worked in full (first: the later ones compactly).")
@chain_option
@reveal_option
@slides_all_option
@_user_errors
def worksheet(
    spec: Path | None, lang: str | None, formats: str, kinds: str, output: Path, force: bool,
    mathjax_url: str | None, user_templates: Path | None, notation: str, blank: str, iterations: str, chain: str | None, reveal: bool,
    slides_all: bool,
) -> None:
    """Write the handout, worksheet and answer key of SPEC (default: the seed-000 example)."""
    from .views.documents import FORMATS, KINDS, MATHJAX_URL
    from .api import load
    from .writer import write_documents

    chosen_formats = _split(formats, (*FORMATS, "check"), "--format")
    chosen_kinds = _split(kinds, KINDS, "--kind")
    problem = load(spec or DEFAULT_EXAMPLE, chain)
    if notation == "scalar":
        _small_enough(problem)
    written = write_documents(
        problem, output, chosen_formats, chosen_kinds, lang,
        force=force, mathjax_url=mathjax_url or MATHJAX_URL, user_templates=user_templates.resolve() if user_templates else None,
        notation=notation, blank=blank, iterations=iterations, reveal=reveal, slides_all=slides_all,
        echo=lambda line: click.echo(line, err=True),
    )
    click.echo(f"wrote {len(written)} file{'s' if len(written) != 1 else ''} to {written[0].parent if written else output}")


@main.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--count", type=click.IntRange(1, 10_000), default=30, show_default=True, help="How many versions (at least one per roster row).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: the same spec and seed give the same versions.")
@click.option("--roster", type=click.Path(path_type=Path), help="CSV with columns student, name: one version per student, names on the pages.")
@click.option("--lang", type=click.Choice(["ko", "en"]), help="Language of the documents (default: the spec's).")
@click.option("--format", "formats", default="md,pdf", show_default=True, help="Comma-separated: md, tex, pdf, html, check (each version's self-check page), slides.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("output"), show_default=True, help="Folder for the versions.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder that derive did not create.")
@mathjax_option
@chain_option
@reveal_option
@slides_all_option
@_user_errors
def variants(
    spec: Path, count: int, seed: int, roster: Path | None, lang: str | None, formats: str, output: Path, force: bool,
    mathjax_url: str | None, chain: str | None, reveal: bool, slides_all: bool,
) -> None:
    """Write one version of SPEC's worksheet and key per student, with fresh numbers."""
    from .views.documents import FORMATS, MATHJAX_URL
    from .api import load
    from .classroom.variants import parse_roster, require_randomize
    from .spec.files import read_text_any_encoding
    from .writer import write_variants

    chosen_formats = _split(formats, (*FORMATS, "check"), "--format")
    problem = _small_enough(load(spec, chain))
    require_randomize(problem)
    students = parse_roster(read_text_any_encoding(roster), str(roster)) if roster else None
    with click.progressbar(length=max(count, len(students or [])), label="writing versions", file=sys.stderr) as bar:
        def writing(outputs):  # type: ignore[no-untyped-def]
            for output_of_one in outputs:
                yield output_of_one
                bar.update(1)

        chosen, written = write_variants(problem, count, seed, students, output, chosen_formats, lang, force=force,
                                         mathjax_url=mathjax_url or MATHJAX_URL, reveal=reveal, slides_all=slides_all, progress=writing,
                                         echo=lambda line: click.echo(line, err=True))
    folder = output / f"{problem.name}-variants"
    click.echo(f"wrote {len(chosen)} versions ({len(written)} files) to {folder}")


# Feedback pages for every student by default in a class up to this size; a course's
# hundred thousand rows would write two hundred thousand files nobody asked for.
FEEDBACK_BY_DEFAULT_UP_TO = 2_000


@main.command()
@click.argument("key_path", metavar="KEY_OR_DIR", type=click.Path(path_type=Path))
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("output/grades"), show_default=True, help="Folder for grades, feedback and summary.")
@click.option("--json", "as_json", is_flag=True, help="Print every student's items as JSON on stdout.")
@click.option("--carried-credit", type=click.FloatRange(0, 1), default=1.0, show_default=True, help="Credit for a right step computed from the student's own wrong inputs.")
@click.option("--plausible-within", type=click.FloatRange(0, None), default=None, help="Off by default. Carry a student's upstream answer only within this relative distance of the right value (without it, every answer is carried unless it makes the next step trivial).")
@click.option("--sigfig", is_flag=True, help="Compare at the policy's significant digits instead of the rtol/atol tolerance.")
@click.option("--duplicates", type=click.Choice(["last", "best", "all"]), default="last", show_default=True,
              help="A student on several rows: count the last row, the best one, or every row.")
@click.option("--feedback", default=None,
              help=f"Per-student feedback pages: md, html, md,html or none (default: md,html up to {FEEDBACK_BY_DEFAULT_UP_TO:,} rows, none above).")
@click.option("--lang", type=click.Choice(["ko", "en"]), help="Language of the feedback (default: the spec's).")
@click.option("--force", is_flag=True, help="Write into a non-empty folder that derive did not create.")
@mathjax_option
@_user_errors
def grade(
    key_path: Path, submissions: Path, output: Path, as_json: bool, carried_credit: float, plausible_within: float | None, sigfig: bool,
    duplicates: str, feedback: str | None, lang: str | None, force: bool, mathjax_url: str | None,
) -> None:
    """Grade a class's SUBMISSIONS (CSV: student, version, one column per item id; without
    a version column, each student's version comes from KEY_OR_DIR's versions.csv)."""
    from .classroom.answers import Submission, assign_versions, class_list, has_version_column, read_header
    from .spec.files import read_key_file, read_text_any_encoding, read_versions_file
    from .spec.schema import SpecError
    from .views.documents import MATHJAX_URL
    from .classroom.gradebook import Grader, Row, Setup, duplicated_rows, mark_duplicates
    from .classroom.grading import GradingRules, key_from_data
    from .output import check_folder
    from .classroom.reports import FeedbackWriter, JSON_END, JSON_SEPARATOR, JSON_START
    from .writer import write_grades

    chosen = _split(feedback, ("md", "html", "none"), "--feedback") if feedback is not None else None
    if chosen is not None and "none" in chosen and len(chosen) > 1:
        raise click.BadParameter("'none' cannot be combined with a format.", param_hint="--feedback")
    key = key_from_data(*read_key_file(key_path))
    check_folder(output, force)
    text = read_text_any_encoding(submissions)
    # Every step is gradable: a column for a chain factor or an error signal is graded too.
    columns, lines = read_header(text, str(submissions), set(key.step_ids))
    notes = list(columns.notes)
    # A first look at every row (who, which version), without the answers.
    rows = [row for line, cells in lines if (row := columns.submission(line, cells, answers=False)) is not None]
    key = key.with_columns(set(columns.items.values()) if rows else set())
    versions = read_versions_file(key_path)
    if versions is not None:
        entries = class_list(*versions)
        if not any(entry.student for entry in entries) and not has_version_column(text):
            raise SpecError(
                f"{submissions}: there is no 'version' column, and {versions[1]} names no students (the versions were made "
                "without --roster). Add a version column (v01, v02, ...)."
            )
        notes += assign_versions(rows, entries, versions[1])
    elif None not in key.versions and not has_version_column(text):
        raise SpecError(
            f"{submissions}: there is no 'version' column, and {key_path} has no versions.csv to say who has which version. "
            "Add a version column (v01, v02, ...) or give the folder `derive variants` wrote."
        )
    rules = GradingRules(carried_credit=carried_credit, plausible_within=plausible_within, sigfig=sigfig)
    grader = Grader(key, rules, duplicates)

    def read_rows() -> Iterator[tuple[int, Submission, list[str]]]:
        """The data rows again, each with its first look (version and name settled)."""
        index = 0
        for line, cells in read_header(text, str(submissions), set(key.step_ids))[1]:
            if any(cell.strip() for cell in cells):
                yield index, rows[index], cells
                index += 1

    def scores(indices: list[int]) -> dict[int, float]:
        wanted = set(indices)
        found = {}
        for index, row, cells in read_rows():
            if index in wanted:
                submission = columns.submission(row.row, cells)
                assert submission is not None
                submission.version, submission.name = row.version, row.name
                found[index] = grader.result(submission).score
        return found

    marks = mark_duplicates(key, rows, duplicates, scores)
    formats = chosen if chosen is not None else (["md", "html"] if len(rows) <= FEEDBACK_BY_DEFAULT_UP_TO else ["none"])
    if chosen is None and formats == ["none"]:
        click.echo(f"note: {len(rows):,} rows: no feedback pages (written by default up to {FEEDBACK_BY_DEFAULT_UP_TO:,} rows; "
                   "--feedback md,html writes them)", err=True)
    language = lang or key.language
    setup = Setup(grader, columns, tuple(fmt for fmt in formats if fmt != "none"), FeedbackWriter(key.latex, language, mathjax_url or MATHJAX_URL))
    graded_rows = (Row(index, row.row, cells, row.version, row.name, marks.get(index)) for index, row, cells in read_rows())
    entries: list[str] | None = [] if as_json else None
    with click.progressbar(length=len(rows), label="grading", file=sys.stderr) as bar:
        tally = write_grades(output, setup, graded_rows, len(rows), language, entries=entries, advance=bar.update)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    repeated = {student: [rows[index].row for index in found] for student, found in duplicated_rows(rows).items()}
    if repeated and duplicates != "all":
        listed = "; ".join(f"{student} (rows {', '.join(map(str, found))})" for student, found in repeated.items())
        click.echo(f"warning: {len(repeated)} student{'s' if len(repeated) != 1 else ''} on several rows, "
                   f"only the {duplicates} row of each counted (--duplicates): {listed}", err=True)
    elif repeated:
        click.echo(f"warning: {len(repeated)} student(s) on several rows, every row counted (--duplicates all): {', '.join(repeated)}", err=True)
    for left_out in tally.ungradable:
        click.echo(f"warning: row {left_out.row}, student {left_out.student}: not graded: {left_out.ungradable}", err=True)
    if entries is not None:
        click.echo(JSON_START + JSON_SEPARATOR.join(entries) + JSON_END, nl=False)
    else:
        mean = tally.mean
        counted = len(tally.scores)
        ungradable = tally.ungradable
        left_out = f"; {len(ungradable)} row{'s' if len(ungradable) != 1 else ''} not graded (see summary.md)" if ungradable else ""
        wrote = "grades.csv, feedback/ and summary.md" if setup.feedback else "grades.csv and summary.md"
        click.echo(f"graded {counted} students (mean {mean or 0.0:.1f}){left_out}; wrote {wrote} to {output}")


@main.command()
@click.argument("keys_dir", metavar="KEYS_DIR", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="The CSV to write (default: KEYS_DIR-submissions.csv, beside the folder).")
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
@_user_errors
def template(keys_dir: Path, output: Path | None, force: bool) -> None:
    """Write the blank submissions CSV for the class of KEYS_DIR (the folder `derive
    variants` wrote): student, name, version and a column per item asked, one row per
    student of its versions.csv."""
    from .classroom.answers import class_list
    from .classroom.grading import key_from_data
    from .classroom.reports import submissions_template
    from .output import write_bytes_atomic
    from .spec.files import read_key_file, read_versions_file
    from .spec.schema import SpecError

    key = key_from_data(*read_key_file(keys_dir))
    versions = read_versions_file(keys_dir)
    if versions is None:
        raise SpecError(f"{keys_dir}: no versions.csv here; give the folder `derive variants` wrote.")
    entries = class_list(*versions)
    # Beside the folder, not in it: `derive variants --force` replaces the folder whole, and
    # the class's answers must not go with it.
    folder = keys_dir if keys_dir.is_dir() else keys_dir.parent
    target = output or folder.parent / f"{folder.resolve().name}-submissions.csv"
    if target.exists() and not force:
        raise SpecError(f"{target}: already exists (perhaps with the class's answers); add --force to replace it, or -o another file.")
    write_bytes_atomic(target, submissions_template(entries, key.item_ids).encode("utf-8"))
    click.echo(f"wrote {target}: {len(entries)} rows, {len(key.item_ids)} item columns")


@main.group()
def export() -> None:
    """Quizzes for learning-management systems."""


def _quiz_source(source: Path) -> tuple[str, dict[Any, Any], str, str]:
    """Title, derivation per version, language and file stem of a spec, a key.json or the
    folder `derive variants` wrote."""
    from .api import load
    from .classroom.grading import key_from_data
    from .spec.files import read_key_file
    from .spec.schema import SpecError

    if not source.exists():
        raise SpecError(f"{source}: no such file or folder; give a spec, a key.json or the folder `derive variants` wrote.")
    if source.is_dir() or source.suffix == ".json":
        key = key_from_data(*read_key_file(source))
        return key.title, key.versions, key.language, source.stem
    problem = load(source)
    return problem.spec.title, {None: problem.derivation}, problem.spec.language, problem.name


def _export_command(lms: str, extension: str, summary: str) -> None:
    """`derive export moodle` and `derive export qti`: the same source, a different file."""

    @export.command(name=lms, help=summary)
    @click.argument("source", metavar="SPEC_OR_DIR", type=click.Path(path_type=Path))
    @click.option("-o", "--output", type=click.Path(path_type=Path), help=f"The .{extension} file (default: output/<name>-{lms}.{extension}).")
    @click.option("--lang", type=click.Choice(["ko", "en"]), help="Language of the questions (default: the spec's).")
    @click.option("--style", type=click.Choice(["version", "items"]), default="version", show_default=True,
                  help="version: each student gets one whole version; items: one question per item and version.")
    @_user_errors
    def command(source: Path, output: Path | None, lang: str | None, style: str) -> None:
        from .classroom.export import EXPORTERS, graded_steps
        from .output import write_bytes_atomic

        title, versions, language, name = _quiz_source(source)
        target = output or Path("output") / f"{name}-{lms}.{extension}"
        write_bytes_atomic(target, EXPORTERS[lms](title, versions, lang or language, style))
        items = sum(len(graded_steps(derivation)) for derivation in versions.values())
        plural = "s" if len(versions) != 1 else ""
        if style == "items":
            click.echo(f"wrote {items} questions ({len(versions)} version{plural}) to {target}")
        elif lms == "moodle":
            click.echo(f"wrote {len(versions)} Cloze question{plural} ({items} blanks) in one category to {target}; "
                       "add one random question from it to the quiz")
        else:
            click.echo(f"wrote 1 quiz whose group picks 1 of {len(versions)} version{plural} ({items} questions) to {target}")


_export_command("moodle", "xml", "Moodle XML: one Cloze question per version in one category (--style items: one numerical question per item).")
_export_command("qti", "zip", "Canvas QTI 1.2 zip: one quiz picking one version per student (--style items: one quiz per version).")


@main.command()
@click.argument("sizes", nargs=-1, required=True)
@click.option("--samples", type=click.IntRange(1), default=60_000, show_default=True, help="Training samples (MNIST has 60,000).")
@click.option("--rate", type=click.FloatRange(1, None), default=850_000_000, show_default=True, help="Operations per second (the seed's i7-8750H: 850 million).")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@_user_errors
def cost(sizes: tuple[str, ...], samples: int, rate: float, lang: str) -> None:
    """Seed 004's table: one gradient by numerical differentiation versus backpropagation,
    e.g. `derive cost 784 100 10`, or for a spec's network or computational graph, `derive cost SPEC`."""
    from .engine.cost import CircuitCost, Cost, cost_table

    if len(sizes) == 1 and not sizes[0].isdigit():  # a spec file
        from .api import load

        problem = load(sizes[0])
        if problem.spec.graph is not None:
            circuit = problem.network
            edges = sum(len(gate.inputs) for gate in circuit.gates)
            table = CircuitCost(problem.spec.title, len(circuit.gates), edges, len(circuit.asked), samples, rate)
            click.echo(cost_table(table, lang), nl=False)
            return
        sizes = tuple(str(size) for size in problem.network_sizes())
    bad = next((size for size in sizes if not size.isdigit() or not 1 <= int(size) <= 10**7), None)
    if bad is not None:
        raise click.BadParameter(f"{bad!r} is not a layer size (1 to 10,000,000) or a spec file; derive cost 784 100 10 or derive cost SPEC",
                                 param_hint="SIZES")
    if len(sizes) < 2:
        raise click.BadParameter("give at least two layer sizes, inputs first: derive cost 784 100 10", param_hint="SIZES")
    click.echo(cost_table(Cost(tuple(int(size) for size in sizes), samples, rate), lang), nl=False)


def _terminated(number: int, _frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so every `with` cleans up (TeX's temporary folders, a
    half-built output set) and the previous outputs stay as they were."""
    raise SystemExit(128 + number)


def entry_point() -> None:
    """`derive` and `python -m derive`. When the command is done, the objects SymPy made are
    frozen out of the garbage collector: Python's shutdown would otherwise walk all of them
    looking for cycles, a tenth of a second spent on memory the system frees anyway."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        main(prog_name="derive")
    finally:
        gc.freeze()
