"""A class's versions rendered in one go: each version's worksheet, key and key JSON, the
class packs (every worksheet in one PDF, every key in another, compiled in chunks on every
core), the version list, and every key in one JSON for `derive grade`.

Versions are independent, so a large class is rendered on every core. `drawn_variant_files`
(the `variants` command) draws and renders in one pass: a worker checks a candidate, which
builds its derivation, and renders it from that same derivation once the judging has given
it its number. `variant_files` renders versions drawn already, each worker rebuilding the
derivation from the version's spec (cheap to send). Either way the results come back in
version order, so the files are the same with one core or many."""

from __future__ import annotations

import csv
import io
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from ..views.documents import MATHJAX_URL, diagram_files, render, render_formats
from ..views.pack import render_pack
from ..engine.problem import Problem
from ..spec.schema import Spec
from .variants import Drawing, Student, Variant, rejection

VARIANT_KINDS = ("worksheet", "key")
PARALLEL_FROM = 64  # versions; below this, starting workers costs more than it saves


@dataclass(frozen=True)
class Job:
    """One version, as sent to a worker: its spec, not its (large) derivation."""

    spec: Spec
    origin: str
    name: str
    number: int
    student: Student | None
    formats: tuple[str, ...]
    language: str
    mathjax_url: str
    reveal: bool = False  # the self-check page (format `check`) shows the right value of a wrong answer
    slides_all: bool = False  # --slides-all: every parameter derived, however long the deck

    @classmethod
    def of(cls, variant: Variant, formats: list[str], language: str, mathjax_url: str, reveal: bool, slides_all: bool) -> Job:
        problem = variant.problem
        return cls(problem.spec, problem.origin, problem.name, variant.number, variant.student, tuple(formats), language,
                   mathjax_url, reveal, slides_all)


@dataclass
class VersionOutput:
    files: dict[str, bytes]
    bodies: dict[str, str]  # kind -> LaTeX body for the class pack
    key: dict[str, object]


def _render_version(job: Job) -> VersionOutput:
    return _render_problem(Problem(job.spec, job.origin, job.name), job)


def _render_problem(problem: Problem, job: Job) -> VersionOutput:
    from ..views.key import grading_key

    variant = Variant(job.number, problem, job.student)
    folder = variant.id
    student = f"{job.student.name} ({job.student.id})" if job.student else None
    labels = {"version": variant.id, "student": student}
    files: dict[str, bytes] = {}
    bodies: dict[str, str] = {}
    if "md" in job.formats:
        files.update({f"{folder}/{name}": svg for name, svg in diagram_files(problem, VARIANT_KINDS).items()})
    if "check" in job.formats:
        from .check import check_page

        files[f"{folder}/check.html"] = check_page(problem, job.language, student=student or "", version=variant.id, reveal=job.reveal,
                                                   student_id=job.student.id if job.student else "").encode()
    documents = [fmt for fmt in job.formats if fmt != "check"]
    for kind in VARIANT_KINDS:
        for fmt, text in render_formats(problem, kind, documents, job.language, job.mathjax_url, **labels).items():
            files[f"{folder}/{kind}.{fmt}"] = text.encode()
        if "pdf" in job.formats:
            bodies[kind] = render(problem, kind, "tex_body", job.language, **labels)
    if "slides" in job.formats:
        from ..views.slides_render import slide_files

        files.update(slide_files(problem, job.language, job.mathjax_url, every=job.slides_all, prefix=f"{folder}/")[0])
    key = grading_key(problem)
    key["version"] = variant.id
    # Compact JSON: pretty-printing turns off json's C encoder, and a class has many keys.
    files[f"{folder}/key.json"] = (json.dumps(key, ensure_ascii=False) + "\n").encode()
    return VersionOutput(files, bodies, key)


def _rendered(jobs: list[Job], workers: int) -> Iterator[VersionOutput]:
    if workers <= 1 or len(jobs) < PARALLEL_FROM:
        yield from map(_render_version, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_render_version, jobs, chunksize=max(1, len(jobs) // (workers * 8)))


def variant_files(
    variants: list[Variant],
    formats: list[str],
    language: str | None,
    *,
    mathjax_url: str = MATHJAX_URL,
    workers: int | None = None,
    reveal: bool = False,
    slides_all: bool = False,
    progress: Callable[[Iterable[VersionOutput]], Iterable[VersionOutput]] = lambda items: items,
    echo: Callable[[str], None] = print,
) -> tuple[dict[str, bytes], list[str]]:
    language = language or variants[0].problem.spec.language
    jobs = [Job.of(variant, formats, language, mathjax_url, reveal, slides_all) for variant in variants]
    cores = workers or os.cpu_count() or 1
    return _class_files(variants, list(progress(_rendered(jobs, cores))), formats, language, cores, echo)


def _class_files(variants: list[Variant], outputs: list[VersionOutput], formats: list[str], language: str, cores: int,
                 echo: Callable[[str], None]) -> tuple[dict[str, bytes], list[str]]:
    """Every version's files, the class packs, keys.json and versions.csv."""
    from ..views.pdf import TexMissing

    files: dict[str, bytes] = {}
    notes: list[str] = []
    bodies: dict[str, list[str]] = {kind: [] for kind in VARIANT_KINDS}
    keys: dict[str, object] = {}
    for variant, output in zip(variants, outputs, strict=True):
        files.update(output.files)
        for kind, body in output.bodies.items():
            bodies[kind].append(body)
        keys[variant.id] = output.key
    if "pdf" in formats:
        try:
            files.update(class_packs(bodies, language, cores, echo))
        except TexMissing as missing:
            notes.append(f"note: class-pack PDFs skipped: {missing}.")
    files["keys.json"] = (json.dumps({"title": variants[0].problem.spec.title, "versions": keys}, ensure_ascii=False) + "\n").encode()
    files["versions.csv"] = _versions_csv(variants).encode("utf-8-sig")
    return files, notes


def drawn_variant_files(
    problem: Problem,
    count: int,
    seed: int,
    roster: list[Student] | None,
    formats: list[str],
    language: str | None,
    *,
    mathjax_url: str = MATHJAX_URL,
    workers: int | None = None,
    reveal: bool = False,
    slides_all: bool = False,
    progress: Callable[[Iterable[VersionOutput]], Iterable[VersionOutput]] = lambda items: items,
    echo: Callable[[str], None] = print,
) -> tuple[list[Variant], dict[str, bytes], list[str]]:
    """`make_variants` and `variant_files` in one pass, each version's derivation built
    once: the workers check the candidates (which builds their derivations), keep those that
    pass, and render them when the judging (here, in the stream's order) has numbered them.
    The same versions and files as the two steps give."""
    drawing = Drawing.start(problem, count, seed, roster)
    language = language or problem.spec.language

    def job(variant: Variant) -> Job:
        return Job.of(variant, formats, language, mathjax_url, reveal, slides_all)

    cores = workers or os.cpu_count() or 1
    drawn = _drawn_in_workers(drawing, job, cores) if cores > 1 and drawing.count >= PARALLEL_FROM else _drawn_here(drawing, job)
    outputs = list(progress(drawn))
    files, notes = _class_files(drawing.kept, outputs, formats, language, cores, echo)
    return drawing.kept, files, notes


def _drawn_here(drawing: Drawing, job: Callable[[Variant], Job]) -> Iterator[VersionOutput]:
    while not drawing.done:
        candidate, fingerprint = drawing.candidate()
        variant = drawing.judge(candidate, fingerprint, drawing.known_reason(fingerprint) or rejection(candidate))
        if variant is not None:
            yield _render_problem(variant.problem, job(variant))


CHECKED: dict[int, Problem] = {}  # in a worker: the candidates it checked and passed, by their place in the stream, until rendered
LOOKAHEAD = 16  # candidates checked ahead of the judging, over all the workers


def _checked(index: int, spec: Spec, origin: str, name: str) -> str | None:
    """In a worker: why the candidate is refused, or None, keeping it (and its derivation) to render."""
    problem = Problem(spec, origin, name)
    reason = rejection(problem)
    if reason is None:
        CHECKED[index] = problem
    return reason


def _render_checked(index: int, job: Job, forget: tuple[int, ...]) -> VersionOutput:
    """In a worker: the version a kept candidate became, after dropping the candidates the
    judging refused although they passed the check (repeats of a version kept meanwhile)."""
    for refused in forget:
        CHECKED.pop(refused)
    return _render_problem(CHECKED.pop(index), job)


def _drawn_in_workers(drawing: Drawing, job: Callable[[Variant], Job], cores: int) -> Iterator[VersionOutput]:
    """Candidate i is checked and rendered by worker i mod cores (one process each, so its
    derivation is still there to render), the judging in between done here in order."""
    workers = [ProcessPoolExecutor(max_workers=1) for _ in range(cores)]
    try:
        checks: deque[tuple[int, Problem, tuple[float | None, ...], Future[str | None] | None]] = deque()  # in the stream's order
        renders: deque[Future[VersionOutput]] = deque()  # in version order
        forget: list[list[int]] = [[] for _ in workers]
        index = 0
        while not drawing.done or checks or renders:
            while not drawing.done and len(checks) < LOOKAHEAD and len(drawing.kept) + len(checks) < drawing.count:
                candidate, fingerprint = drawing.candidate()
                known = drawing.known_reason(fingerprint)
                future = None if known else workers[index % cores].submit(_checked, index, candidate.spec, candidate.origin, candidate.name)
                checks.append((index, candidate, fingerprint, future))
                index += 1
            if checks:
                place, candidate, fingerprint, future = checks.popleft()
                reason = future.result() if future is not None else None
                variant = drawing.judge(candidate, fingerprint, reason)
                if variant is not None:
                    worker = place % cores
                    renders.append(workers[worker].submit(_render_checked, place, job(variant), tuple(forget[worker])))
                    forget[worker].clear()
                elif future is not None and reason is None:  # passed the check, refused as a repeat
                    forget[place % cores].append(place)
            while renders and (renders[0].done() or len(renders) > LOOKAHEAD or not checks):
                yield renders.popleft().result()
    finally:
        for worker in workers:
            worker.shutdown(cancel_futures=True)


PACK_NAMES = {"worksheet": "worksheets", "key": "keys"}
PACK_CHUNK = 250  # versions per XeLaTeX run; fixed, so the merged bytes do not depend on the cores


def class_packs(bodies: dict[str, list[str]], language: str, workers: int, echo: Callable[[str], None]) -> dict[str, bytes]:
    """Every version's body in one PDF per kind. The versions are compiled in chunks
    (XeLaTeX runs as its own process, so threads suffice), every kind's chunks in one queue
    so that every core stays busy to the end, the keys' (the longest) first; each kind's
    chunks are then merged in version order. A chunk is a few seconds of TeX, far from
    its time limit, so a pack of any size compiles."""
    from concurrent.futures import ThreadPoolExecutor

    from ..views.pdf import compile_pdf, joined_pdf

    order = ("key", "worksheet")
    chunks = [(kind, bodies[kind][start:start + PACK_CHUNK]) for kind in order for start in range(0, len(bodies[kind]), PACK_CHUNK)]
    versions = len(bodies["worksheet"])
    echo(f"  compiling {', '.join(f'{PACK_NAMES[kind]}.pdf' for kind in VARIANT_KINDS)}: {versions} versions in "
         f"{len(chunks)} XeLaTeX run{'s' if len(chunks) != 1 else ''} on {workers} core{'s' if workers != 1 else ''} ...")
    done: list[str] = []  # list.append is atomic: the threads count into it

    def compile_chunk(kind: str, chunk: list[str]) -> bytes:
        pdf = compile_pdf(render_pack(chunk, language), PACK_NAMES[kind])
        done.append(kind)
        echo(f"    compiled chunk {len(done)} of {len(chunks)}")
        return pdf

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [(kind, pool.submit(compile_chunk, kind, chunk)) for kind, chunk in chunks]
        merged = {kind: joined_pdf([future.result() for chunk_kind, future in futures if chunk_kind == kind]) for kind in order}
    return {f"{PACK_NAMES[kind]}.pdf": merged[kind] for kind in VARIANT_KINDS}


def _versions_csv(variants: list[Variant]) -> str:
    """Who got which version; UTF-8 with BOM so Excel shows Korean names. The roster's ids
    and names go through `csv_cell`, so a spreadsheet never runs one as a formula."""
    from ..views.escape import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["version", "student", "name"])
    for variant in variants:
        student = variant.student
        writer.writerow([variant.id, csv_cell(student.id) if student else "", csv_cell(student.name) if student else ""])
    return buffer.getvalue()
