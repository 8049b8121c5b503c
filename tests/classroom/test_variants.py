"""Per-student versions: well-posed, distinct, reproducible, and labelled."""

from __future__ import annotations

import subprocess
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import derive
from derive.spec.schema import SpecError
from derive.classroom.variants import Drawing, Student, make_variants, rejection
from derive.classroom.batch import drawn_variant_files, variant_files

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _spec(**changes: object) -> dict:
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    spec.update(changes)
    return spec


def test_thirty_versions_are_well_posed_distinct_and_on_the_grid() -> None:
    variants = make_variants(derive.load(SEED000), 30, seed=7)
    assert [v.id for v in variants] == [f"v{n:02d}" for n in range(1, 31)]
    prints = set()
    for variant in variants:
        network = variant.problem.network
        assert rejection(variant.problem) is None
        numbers = [*network.inputs.values(), *network.targets.values(), *(p.value for p in network.parameters)]
        assert all(Decimal(str(n)).as_tuple().exponent >= -1 and n != 0 for n in numbers)
        assert all(0.1 <= x <= 0.9 for x in network.inputs.values())
        assert all(0.5 <= y <= 0.9 for y in network.targets.values())
        prints.add(tuple(numbers))
        assert network.learning_rate == 0.1 and network.spec.layers == derive.load(SEED000).spec.layers
    assert len(prints) == 30


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not() -> None:
    def files(seed: int) -> dict[str, bytes]:
        return variant_files(make_variants(derive.load(SEED000), 3, seed), ["md", "html"], None, echo=lambda _: None)[0]

    assert files(3) == files(3)
    assert files(3)["v01/key.json"] != files(4)["v01/key.json"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"weights": {"w1": 9, "w2": 0.2, "w3": 9, "w4": 0.3, "w5": 0.4, "w6": 0.5}}, "sigmoid unit a1 saturates"),
        ({"layers": [{"units": 2, "activation": "relu"}, {"units": 1, "activation": "identity"}],
          "weights": {"w1": -0.3, "w2": 0.2, "w3": -0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5}}, "ReLU unit a1 is dead"),
        ({"targets": {"y1": 0.4943}}, "rounds to 0"),
    ],
)
def test_rejection_names_what_makes_a_version_ill_posed(changes: dict, reason: str) -> None:
    assert reason in (rejection(derive.load(_spec(**changes))) or "")


def test_ranges_that_only_saturate_end_in_one_clear_error() -> None:
    spec = _spec(randomize={"weights": {"min": 5, "max": 9, "decimals": 0}})
    with pytest.raises(SpecError, match="no well-posed version 1 was found .most often: sigmoid unit a1 saturates"):
        make_variants(derive.load(spec), 2, seed=1)


def test_a_spec_without_randomize_is_told_how_to_add_one() -> None:
    spec = _spec()
    del spec["randomize"]
    with pytest.raises(SpecError, match="has no randomize section"):
        make_variants(derive.load(spec), 2, seed=1)


def test_roster_names_every_page_and_the_version_list() -> None:
    roster = [Student("2026001", "김민준"), Student("2026002", "Park, Jiho")]
    variants = make_variants(derive.load(SEED000), 1, seed=1, roster=roster)
    assert len(variants) == 2  # one per student, even when --count is smaller
    files, _ = variant_files(variants, ["md", "tex"], None, echo=lambda _: None)
    assert "김민준 (2026001)" in files["v01/worksheet.md"].decode()
    assert r"\markright{버전 v02 \quad Park, Jiho (2026002)}" in files["v02/worksheet.tex"].decode()
    assert files["versions.csv"].decode("utf-8-sig").splitlines() == ["version,student,name", "v01,2026001,김민준", 'v02,2026002,"Park, Jiho"']


@pytest.mark.skipif(shutil.which("xelatex") is None or shutil.which("pdfinfo") is None, reason="needs XeLaTeX and poppler-utils")
def test_class_pack_is_one_pdf_with_every_version(tmp_path: Path) -> None:
    variants = make_variants(derive.load(SEED000), 4, seed=2)
    files, notes = variant_files(variants, ["pdf"], None, echo=lambda _: None)
    assert notes == []
    single, _ = variant_files(variants[:1], ["pdf"], None, echo=lambda _: None)
    for name in ("worksheets.pdf", "keys.pdf"):
        pack, one = tmp_path / name, tmp_path / f"one-{name}"
        pack.write_bytes(files[name])
        one.write_bytes(single[name])
        pages = [int(next(line.split()[-1] for line in subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout.splitlines() if line.startswith("Pages"))) for path in (pack, one)]
        assert pages[0] == 4 * pages[1]


def test_variants_command_writes_the_class_set(tmp_path: Path) -> None:
    from ..test_cli import _run

    roster = tmp_path / "roster.csv"
    roster.write_bytes("student,name\n2026001,김민준\n2026002,이서연\n".encode("cp949"))
    result = _run("variants", str(SEED000), "--count", "3", "--seed", "5", "--roster", str(roster), "--format", "md,html",
                  "--mathjax", "mathjax/tex-chtml.js", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "2-2-1-linear-mse-variants"
    assert sorted(p.name for p in folder.iterdir()) == [".derive", "keys.json", "v01", "v02", "v03", "versions.csv"]
    assert "이서연" in (folder / "v02" / "worksheet.md").read_text(encoding="utf-8")
    # --mathjax is accepted with a note and loads nothing: the pages carry MathML.
    assert "--mathjax is ignored" in result.stderr
    key_page = (folder / "v03" / "key.html").read_text(encoding="utf-8")
    assert "<script" not in key_page and "mathjax/tex-chtml.js" not in key_page and "<math" in key_page


def test_a_large_class_renders_the_same_on_two_cores_as_on_one() -> None:
    variants = make_variants(derive.load(SEED000), 70, seed=9)
    serial, _ = variant_files(variants, ["md"], None, workers=1, echo=lambda _: None)
    parallel, _ = variant_files(variants, ["md"], None, workers=2, echo=lambda _: None)
    assert list(serial) == list(parallel) and serial == parallel


def _reasons(problem: derive.Problem, count: int, seed: int) -> dict[str, int]:
    """The refusals drawing `count` versions meets, counted here one candidate at a time."""
    drawing = Drawing.start(problem, count, seed)
    while not drawing.done:
        candidate, fingerprint = drawing.candidate()
        drawing.judge(candidate, fingerprint, drawing.known_reason(fingerprint) or rejection(candidate))
    return drawing.reasons


@pytest.mark.parametrize("changes", [
    # ReLU units die for a third of the draws: the judging refuses candidates the workers checked ahead
    {"layers": [{"units": 2, "activation": "relu"}, {"units": 1, "activation": "identity"}],
     "randomize": {"inputs": {"min": 0.1, "max": 0.9}, "weights": {"min": -0.3, "max": 0.9}}},
    # three weights a parameter: candidates repeat one kept meanwhile, after passing the check
    {"randomize": {"weights": {"min": 0.1, "max": 0.3}}},
])
def test_versions_checked_and_rendered_on_two_cores_are_the_ones_drawn_one_by_one(changes: dict) -> None:
    problem = derive.load(_spec(**changes))
    reasons = _reasons(problem, 70, seed=4)
    assert len(reasons) >= 1 and sum(reasons.values()) >= 3
    roster = [Student(f"s{n}", f"학생 {n}") for n in range(1, 41)]
    one_by_one = make_variants(problem, 70, seed=4, roster=roster)
    expected, _ = variant_files(one_by_one, ["md"], None, workers=1, echo=lambda _: None)
    variants, files, notes = drawn_variant_files(problem, 70, 4, roster, ["md"], None, workers=2, echo=lambda _: None)
    assert [(v.id, v.student, v.problem.spec) for v in variants] == [(v.id, v.student, v.problem.spec) for v in one_by_one]
    assert notes == [] and list(files) == list(expected) and files == expected


def test_a_draw_that_never_fits_ends_in_the_same_error_on_two_cores() -> None:
    spec = _spec(randomize={"weights": {"min": 5, "max": 9, "decimals": 0}})
    with pytest.raises(SpecError, match="no well-posed version 1 was found .most often: sigmoid unit a1 saturates"):
        drawn_variant_files(derive.load(spec), 70, 1, None, ["md"], None, workers=2, echo=lambda _: None)
