"""Every format as its reader opens it: the README's commands run quietly, on a machine
where matplotlib's font list predates the Nanum fonts as much as on one without them."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import derive
from derive.views import mathml, plot
from derive.views.documents import KINDS, render

from ..conftest import EXAMPLES, ROOT
from .test_rendering import EXAMPLE_FILES, MATHJAX, _typeset, needs_browser


README = ROOT / "README.md"


def _readme_block(after_heading: str) -> list[str]:
    """The commands of the first ```sh block under a README heading (comments dropped)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(after_heading):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _stale_font_cache(folder: Path) -> dict[str, str]:
    """An MPLCONFIGDIR whose font list was built before fonts-nanum was installed: the
    case that printed a findfont line per label and family."""
    env = {**os.environ, "MPLCONFIGDIR": str(folder)}
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True, capture_output=True)
    for cache in folder.glob("fontlist*.json"):
        fonts = json.loads(cache.read_text(encoding="utf-8"))
        fonts["ttflist"] = [font for font in fonts["ttflist"] if "nanum" not in font["fname"].lower()]
        cache.write_text(json.dumps(fonts), encoding="utf-8")
    return env


def test_the_readme_grade_example_prints_no_library_warning(tmp_path: Path) -> None:
    commands = [command for command in _readme_block("## A class") if " variants " in command or " grade " in command]
    assert len(commands) == 2
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    env = _stale_font_cache(tmp_path / "mpl")
    for command in commands:
        arguments = command.split()
        assert arguments[0] == ".venv/bin/python"
        result = subprocess.run([sys.executable, *arguments[1:]], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert "findfont" not in result.stderr and "Warning" not in result.stderr, result.stderr
    assert (tmp_path / "output" / "grades" / "histogram.svg").exists()


def test_without_nanum_a_korean_plot_says_so_once_in_words(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    from matplotlib import font_manager

    ttflist = [font for font in font_manager.fontManager.ttflist if font.name not in plot.HANGUL_FAMILIES]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", ttflist)
    monkeypatch.setattr(plot, "FONT_DIRS", ())
    plot._hangul_font.cache_clear()
    plot._say_no_hangul.cache_clear()
    try:
        with caplog.at_level(logging.DEBUG, logger="matplotlib"):
            plot.score_histogram_svg([50.0, 70.0], "en")
            assert capsys.readouterr().err == ""  # nothing Korean to draw
            plot.score_histogram_svg([50.0, 70.0], "ko")
            plot.loss_plot_svg([0.5, 0.4, 0.3], "L", "반복")
        assert capsys.readouterr().err == plot.NO_HANGUL_NOTE + "\n"
        assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    finally:
        plot._hangul_font.cache_clear()
        plot._say_no_hangul.cache_clear()


@pytest.mark.skipif(not Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf").exists(), reason="fonts-nanum is not installed")
def test_nanum_is_found_by_file_when_the_font_list_predates_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib import font_manager

    ttflist = [font for font in font_manager.fontManager.ttflist if "nanum" not in font.fname.lower()]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", ttflist)
    plot._hangul_font.cache_clear()
    try:
        assert plot._hangul_font()
    finally:
        plot._hangul_font.cache_clear()


INSTALL_TEX = ROOT / "scripts" / "install-tex"
TEX_PACKAGES = "texlive-xetex texlive-latex-recommended texlive-lang-korean texlive-pictures texlive-fonts-recommended fonts-nanum"


def _bare_path(folder: Path, uid: str, *, apt: bool) -> dict[str, str]:
    """A PATH with the shell's basic tools, no TeX, a stand-in `id` (root or not) and, if
    asked, an `apt-get` that only records what it was asked to do."""
    folder.mkdir()
    for tool in ("bash", "sed", "grep", "env", "cat"):
        found = shutil.which(tool)
        assert found is not None
        (folder / tool).symlink_to(found)
    stand_ins = {"id": f"#!{shutil.which('bash')}\necho {uid}\n"}
    if apt:
        stand_ins["apt-get"] = f'#!{shutil.which("bash")}\necho "$@" >> "{folder}/apt.log"\n'
    for name, script in stand_ins.items():
        (folder / name).write_text(script)
        (folder / name).chmod(0o755)
    return {"PATH": str(folder), "HOME": str(folder)}


def test_install_tex_as_root_installs_the_packages_and_says_so(tmp_path: Path) -> None:
    env = _bare_path(tmp_path / "bin", "0", apt=True)
    result = subprocess.run([str(INSTALL_TEX)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "installing it for the PDFs" in result.stdout
    log = (tmp_path / "bin" / "apt.log").read_text().splitlines()
    assert log[0] == "update -qq"
    assert log[1] == f"install -y -qq --no-install-recommends {TEX_PACKAGES}"
    # the stand-in installed nothing: the script says so, and what to run, and does not fail the make
    assert f"sudo apt-get install -y --no-install-recommends {TEX_PACKAGES}" in result.stderr


@pytest.mark.parametrize("apt", [True, False])
def test_install_tex_without_root_prints_the_exact_command(tmp_path: Path, apt: bool) -> None:
    env = _bare_path(tmp_path / "bin", "1000", apt=apt)
    result = subprocess.run([str(INSTALL_TEX)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert not (tmp_path / "bin" / "apt.log").exists()
    assert f"sudo apt-get install -y --no-install-recommends {TEX_PACKAGES}" in result.stderr
    assert "Everything else is written" in result.stderr


def test_make_worksheet_installs_tex_before_writing_and_ci_runs_it_on_a_clean_clone() -> None:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nworksheet:"):].split("\n\n", 1)[0]
    assert recipe.index("scripts/install-tex") < recipe.index("derive worksheet")
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.index("make -C \"$clone/derive\" worksheet") < ci.index("\nmake test\n")
    assert "output/2-2-1-linear-mse/$kind.pdf" in ci
    assert _readme_block("## Quick start")[0] == "make worksheet"
    assert TEX_PACKAGES in (ROOT / ".ci" / "run").read_text() and TEX_PACKAGES in INSTALL_TEX.read_text()


def _kramdown(markdown: str) -> str | None:
    """The Markdown as Jekyll's default renderer makes it (front matter off), or None
    without kramdown (Debian: ruby-kramdown)."""
    ruby = shutil.which("ruby")
    if ruby is None:
        return None
    body = markdown.split("---\n", 2)[2] if markdown.startswith("---\n") else markdown
    script = 'require "kramdown"; print Kramdown::Document.new(STDIN.read).to_html'
    result = subprocess.run([ruby, "-e", script], input=body, capture_output=True, text=True, timeout=120)
    return result.stdout if result.returncode == 0 else None


needs_kramdown = pytest.mark.skipif(_kramdown("x") is None, reason="kramdown is not installed (ruby-kramdown)")


@needs_kramdown
@needs_browser
@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_markdown_as_jekyll_renders_it_typesets_every_formula(example: Path, language: str, tmp_path: Path) -> None:
    problem = derive.load(example)
    pages = []
    for kind in KINDS:
        html = _kramdown(render(problem, kind, "md", language))
        assert html is not None
        # kramdown leaves single-$ math as text: every formula must have become \( \) or \[ \]
        assert "$" not in html, (kind, html[max(0, html.find("$") - 80):html.find("$") + 80])
        pages.append(html)
    body = "".join(pages)
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<script defer src="{MATHJAX.as_uri()}"></script></head><body>{body}</body></html>')
    typeset, errors = _typeset(page, tmp_path)
    assert errors == []
    displays = len(re.findall(r"^\\\[", body, flags=re.M))  # not a row's \\[10pt]
    assert typeset == body.count("\\(") + displays > 10


@needs_kramdown
@needs_browser
def test_the_history_and_answer_tables_typeset_after_kramdown(tmp_path: Path) -> None:
    spec = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
    spec["steps"] = 3
    problem = derive.load(spec)
    html = _kramdown(render(problem, "key", "md", "en"))
    assert html is not None and html.count("<table>") == 2
    tables = html[html.index("<table>"):]
    assert "$" not in tables
    page = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<script defer src="{MATHJAX.as_uri()}"></script></head><body>{tables}</body></html>')
    typeset, errors = _typeset(page, tmp_path)
    assert errors == [] and typeset == tables.count("\\(") > 3


@pytest.mark.parametrize("language", ["ko", "en"])
def test_seed_000_prose_in_every_format_with_the_networks_numbers(language: str) -> None:
    from derive.views.documents import HEADINGS, document_context

    words = HEADINGS[language]
    spec = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
    spec["learning_rate"] = 0.25
    problem = derive.load(spec)
    opening = str(words["backprop"]).split("{", 1)[0]
    chain = str(words["chain_rule"])
    closing = str(words["closing"]).split("{", 1)[0]
    numbers = [part for is_math, part in document_context(problem, "key", language)["prose"]["closing"] if is_math]
    numbers.remove("y_{1} = 0.7")  # the target, a given
    assert any("0.25" not in part and "=" in part for part in numbers) and len(numbers) == 4
    def shown(latex: str, fmt: str) -> str:
        """How a formula appears in the format's text: its LaTeX, or in HTML its MathML's text."""
        return re.sub(r"<[^>]+>", "", str(mathml.inline(latex))) if fmt == "html" else latex

    for fmt in ("md", "tex", "html"):
        for kind in KINDS:
            text = render(problem, kind, fmt, language)
            seen = re.sub(r"<[^>]+>", "", text) if fmt == "html" else text
            assert opening in text and chain in text, (kind, fmt)
            assert shown(r"\eta = 0.25", fmt) in seen and shown(r"W_{\text{new}} = W_{\text{old}} - \eta", fmt) in seen, (kind, fmt)
            if kind == "worksheet":  # its numbers would be answers
                assert closing not in text
                assert [part for part in numbers if shown(part, fmt) in seen] == [], (kind, fmt)
            else:
                assert closing in text, (kind, fmt)
                assert "0.7" in text.split(closing, 1)[1].split("\n", 1)[0]


def test_a_notebook_shows_the_problem_as_html_with_the_diagram_inline(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(f"import derive\nderive.load({str(EXAMPLES / '2-2-1-linear-mse.yaml')!r})"))
    try:
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    except Exception as error:  # no kernel spec, or a kernel that cannot start here
        if "kernel" in type(error).__name__.lower() or "kernel" in str(error).lower():
            pytest.skip(f"a Jupyter kernel cannot start: {error}")
        raise
    [output] = [output for output in notebook.cells[0].outputs if output["output_type"] == "execute_result"]
    html = output["data"]["text/html"]
    assert html.startswith('<div class="derive-problem">') and "<svg" in html
    assert "layout: post" not in html and "<script" not in html and "<style" not in html
    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    assert problem._repr_html_() == html
    assert html.count("<math") > 10 and "\\(" not in html  # MathML, which the notebook's browser renders
