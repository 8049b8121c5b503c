"""A user's `--templates` folder is confined: no reading outside it through links, no
changing what templates are given, bounded time and output, one message for any failure,
and no TeX that reads files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ..test_cli import _run


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "templates"
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _worksheet(tmp_path: Path, folder: Path, formats: str = "md", kinds: str = "handout"):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = _run("worksheet", "--format", formats, "--kind", kinds, "--templates", str(folder), "-o", str(tmp_path / "out"))
    return result, time.monotonic() - started


def _refused(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("error:") == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_a_template_linked_outside_the_folder_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "secret.txt"
    victim.write_text("SECRET-CONTENT", encoding="utf-8")
    folder = _folder(tmp_path, {})
    folder.mkdir(exist_ok=True)
    (folder / "document.md.j2").symlink_to(victim)
    result, _ = _worksheet(tmp_path, folder)
    _refused(result, "outside the templates folder")
    assert not (tmp_path / "out").exists()


def test_a_folder_linked_to_root_cannot_include_system_files(tmp_path: Path) -> None:
    victim = tmp_path / "secret.txt"
    victim.write_text("SECRET-CONTENT", encoding="utf-8")
    folder = _folder(tmp_path, {"document.md.j2": "{% include 'root" + str(victim) + "' %}\n"})
    (folder / "root").symlink_to("/")
    result, _ = _worksheet(tmp_path, folder)
    _refused(result, "outside the templates folder")
    assert not (tmp_path / "out").exists()


def test_a_link_inside_the_folder_is_fine(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"mine.md.j2": "MINE {{ title }}\n"})
    (folder / "document.md.j2").symlink_to(folder / "mine.md.j2")
    result, _ = _worksheet(tmp_path, folder)
    assert result.returncode == 0, result.stderr
    assert "MINE" in (tmp_path / "out" / "2-2-1-linear-mse" / "handout.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", "range of 100000 items"),
        ("{% for i in range(10000) %}{% for j in range(10000) %}{{ i }}{% endfor %}{% endfor %}", "looped more than"),
        ("{% for i in range(10**9) %}{% endfor %}", "range of 1000000000 items"),
        ("{{ 'x' * 10**9 }}", "repeated text"),
        ("{{ 10 ** 10000000 }}", "too large"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "too deeply"),
        ("{{ '{0.__class__}'.format_map(words) }}", "a template failed"),
        ("{{ words.update({'network': 'CHANGED'}) }}", "a template failed"),
        ("{{ prose.clear() }}", "a template failed"),
        ("{{ ''.__class__.__mro__ }}", "a template failed"),
    ],
    ids=["nested-range", "loop-budget", "huge-range", "repeat", "power", "recursion", "format_map", "dict-update",
         "list-clear", "dunder"],
)
def test_template_mistakes_and_attacks_are_one_message_within_seconds(tmp_path: Path, template: str, fragment: str) -> None:
    folder = _folder(tmp_path, {"document.md.j2": template + "\n"})
    result, seconds = _worksheet(tmp_path, folder)
    _refused(result, fragment)
    assert seconds < 30 and not (tmp_path / "out").exists()


def test_a_template_cannot_change_what_built_in_templates_print(tmp_path: Path) -> None:
    plain, _ = _worksheet(tmp_path / "plain", _folder(tmp_path / "plain", {"unused.j2": ""}), formats="md,html")
    assert plain.returncode == 0, plain.stderr
    folder = _folder(tmp_path, {"document.md.j2": "{% set _ = words.update({'network': 'CHANGED'}) %}\n"})
    result, _ = _worksheet(tmp_path, folder, formats="md,html")
    _refused(result, "a template failed")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command",
    [
        r"\XeTeXpdffile \"{pdf}\"", r"\XeTeXpicfile \"{png}\"", r"\includegraphics{{{png}}}", r"\input{{{pdf}}}",
        r"\openin1={pdf}", r"\immediate\write18{{touch x}}", r"\special{{pdf:fstream @x ({pdf})}}",
        r"\csname XeTeXpdffile\endcsname \"{pdf}\"", r"^^5cXeTeXpicfile \"{png}\"", r"\catcode`\|=0 |XeTeXpdffile",
        r"\usepackage{{pdfpages}}", r"\setmainfont{{[{pdf}]}}", r"\addplot graphics {{{png}}};", r"\pgfimage{{{png}}}",
    ],
)
def test_tex_from_user_templates_cannot_embed_or_read_files(tmp_path: Path, command: str) -> None:
    victim_pdf, victim_png = tmp_path / "victim.pdf", tmp_path / "victim.png"
    victim_pdf.write_bytes(b"%PDF-1.4\n% victim\n")
    victim_png.write_bytes(b"\x89PNG\r\n\x1a\n victim")
    line = command.format(pdf=victim_pdf, png=victim_png)
    folder = _folder(tmp_path, {"tex/body.tex.j2": line + "\n"})
    result, _ = _worksheet(tmp_path, folder, formats="tex,pdf")
    _refused(result, "not allowed in TeX from --templates")
    assert not (tmp_path / "out").exists()


def test_derive_s_own_tex_passes_the_check_under_user_templates(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"unused.j2": ""})
    result, _ = _worksheet(tmp_path, folder, formats="tex", kinds="handout,worksheet,key")
    assert result.returncode == 0, result.stderr


def test_a_graph_s_documents_honour_the_templates_folder(tmp_path: Path) -> None:
    """A computational graph's circuit documents are looked up in --templates first, in the
    same sandbox as a network's: a template of the user's is used, an attack is refused."""
    spec = str(Path(__file__).parents[2] / "examples" / "graph-sum-times-product.yaml")
    folder = _folder(tmp_path, {"circuit.md.j2": "MINE {{ title }} {{ kind }}\n", "circuit.html.j2": "<p>MINE HTML {{ title }}</p>\n"})
    result = _run("worksheet", spec, "--format", "md,html", "--kind", "handout", "--templates", str(folder), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = {path.name: path.read_text(encoding="utf-8") for path in (tmp_path / "out").rglob("handout.*")}
    assert written["handout.md"].startswith("MINE ") and "handout" in written["handout.md"]
    assert "MINE HTML" in written["handout.html"]
    attack = _folder(tmp_path / "attack", {"circuit.md.j2": "{{ ''.__class__.__mro__ }}\n"})
    refused = _run("worksheet", spec, "--format", "md", "--templates", str(attack), "-o", str(tmp_path / "out2"))
    _refused(refused, "template")
    assert not (tmp_path / "out2").exists() or not any((tmp_path / "out2").rglob("*.md"))
