"""The package's shape, as the README states it: files are read and written only at the
edges, and the matrix form evaluates the engine's one definition of every function. The
one-way import rule itself is import-linter's layers contract (pyproject.toml), run by
`make test`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "derive"
FILE_ACCESS = re.compile(
    r"\bopen\(|\.read_text\(|\.write_text\(|\.read_bytes\(|\.write_bytes\(|\.mkdir\(|\.unlink\(|\.touch\(|os\.replace\("
    r"|\bnp\.(load|loadtxt|genfromtxt|fromfile|save|savetxt)\(|\.tofile\("
)
# The only views module that touches files: XeLaTeX runs in its own temporary folder.
ALLOWED = {"views/pdf.py"}


@pytest.mark.parametrize("stage", ["engine", "classroom", "views"])
def test_no_engine_classroom_or_view_module_opens_a_file(stage: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted((PACKAGE / stage).glob("*.py"))
        if str(path.relative_to(PACKAGE)) not in ALLOWED
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FILE_ACCESS.search(line)
    ]
    assert offenders == []


def test_the_scan_finds_file_access_where_there_is_some() -> None:
    """The pattern above is not vacuous: it sees the loaders' and the writer's own calls."""
    assert FILE_ACCESS.search((PACKAGE / "spec" / "files.py").read_text(encoding="utf-8"))
    assert FILE_ACCESS.search((PACKAGE / "output.py").read_text(encoding="utf-8"))


def test_the_matrix_form_has_no_activation_or_loss_code_of_its_own() -> None:
    source = (PACKAGE / "engine" / "matrix.py").read_text(encoding="utf-8")
    for own_definition in ("np.exp", "np.tanh", "np.log", "np.maximum", "np.where", "1.0 - a", "(y - a)"):
        assert own_definition not in source
    assert "lambdify" in source and "layer_activation" in source and "spec_loss" in source


def test_every_subpackage_says_what_it_owns_and_may_import() -> None:
    for stage in ("spec", "engine", "views", "classroom"):
        docstring = (PACKAGE / stage / "__init__.py").read_text(encoding="utf-8")
        assert "Owns" in docstring and "import" in docstring.lower()


def test_a_built_wheel_carries_every_template(tmp_path) -> None:
    """A `pip install` that is not the editable one must still find the templates: they are
    package data, and the wheel holds each one under derive/templates."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "source"  # a copy, so no build/ left from an earlier run can fill a gap
    shutil.copytree(PACKAGE, source / "derive", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PACKAGE.parent / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("derive-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted(path.relative_to(PACKAGE.parent).as_posix() for path in (PACKAGE / "templates").rglob("*")
                       if path.is_file() and "__pycache__" not in path.parts)
    assert templates and [name for name in templates if name not in in_wheel] == []
