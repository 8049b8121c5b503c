"""User strings cannot inject into LaTeX, HTML, Markdown or templates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import derive
from derive.views.documents import render
from derive.views.pdf import compile_pdf, tex_engine
from derive.spec.schema import SpecError

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _spec(**changes: object) -> dict:
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    spec.update(changes)
    return spec


@pytest.mark.parametrize(
    "override",
    [r"\input{/etc/passwd}", r"\immediate\write18{touch x}", r"\openout1=x", r"\def\x{1}", r"\catcode`\^=7",
     "y % comment", "a #1", "a & b", "$x$", r"\^^5cinput", "{unbalanced", "<script>alert(1)</script>", r"\href{javascript:x}{y}"],
)
def test_latex_overrides_outside_the_whitelist_are_refused(override: str) -> None:
    with pytest.raises(SpecError, match="latex.yhat1"):
        derive.load(_spec(latex={"yhat1": override}))


def test_allowed_latex_override_is_used() -> None:
    problem = derive.load(_spec(latex={"yhat1": r"\hat{y}_{\mathrm{out}}"}))
    assert r"\hat{y}_{\mathrm{out}} &= z_{3}" in render(problem, "handout", "md")


@pytest.mark.skipif(tex_engine() is None, reason="XeLaTeX is not installed")
def test_tex_commands_in_a_title_are_printed_not_run(tmp_path: Path) -> None:
    title = r"\immediate\write18{touch pwned} \input{/etc/passwd} \openout5=leak"
    problem = derive.load(_spec(title=title))
    pdf = compile_pdf(render(problem, "handout", "tex", "en"), "handout")
    assert pdf.startswith(b"%PDF")
    assert not Path("pwned").exists() and not (tmp_path / "pwned").exists()


def test_html_in_names_of_a_roster_is_escaped() -> None:
    from derive.classroom.batch import variant_files
    from derive.classroom.variants import Student, make_variants

    variants = make_variants(derive.load(SEED000), 1, 1, roster=[Student("1", "<script>alert(1)</script>")])
    files, _ = variant_files(variants, ["html", "md"], None, echo=lambda _: None)
    assert b"<script>alert" not in files["v01/worksheet.html"]
    assert b"&lt;script&gt;" in files["v01/worksheet.html"]
    assert b"<script>alert" not in files["v01/worksheet.md"]


def test_front_matter_cannot_be_closed_by_a_title() -> None:
    title = "a\n---\nlayout: evil\n"
    text = render(derive.load(_spec(title=title)), "handout", "md")
    front = yaml.safe_load(text.split("\n---\n", 1)[0].removeprefix("---\n"))
    assert front["title"] == title and front["layout"] == "post"


def test_user_templates_render_in_the_sandbox(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "document.md.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}", encoding="utf-8")
    result = _run("worksheet", "--format", "md", "--templates", str(templates), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "unsafe" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_user_template_may_lay_out_the_documents_data(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "document.md.j2").write_text("# {{ title | text }}\n{% for heading, rows in forward %}{% for line in rows %}{{ line }}\n{% endfor %}{% endfor %}", encoding="utf-8")
    result = _run("worksheet", "--format", "md", "--kind", "handout", "--templates", str(templates), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "2-2-1-linear-mse" / "handout.md").read_text(encoding="utf-8")
    assert text.startswith("# 순전파/역전파 예제로 이해하기\nz_{1} &= w_{1}")
