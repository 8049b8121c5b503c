r"""The Jinja2 environments documents render in: derive's own templates (compiled once and
cached), and a user's `--templates DIR` looked up before them, confined:

- the user's folder is read only inside it: a template (or a folder on the way to one)
  that is a link resolving outside the folder is refused;
- templates render in Jinja's ImmutableSandboxedEnvironment: no reaching Python, and no
  changing what they are given (`words.update(...)`, `list.append`);
- a render is bounded: `range` at most 10,000 items and 1,000,000 over the whole render,
  string and list repetition and powers bounded, 20 million characters of output and 20
  seconds; any failure inside (recursion, a bad `format_map`, an overflow) is one
  `TemplateError`, which the command line prints as one message;
- TeX a user's templates produced may not use the primitives and commands that read or
  write files or rebuild a command's name (`\XeTeXpdffile`, `\XeTeXpicfile`,
  `\includegraphics`, `\input`, `\openin`, `\write`, `\special`, `\csname`,
  `\catcode`, `^^`, ...)."""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from jinja2.sandbox import ImmutableSandboxedEnvironment

from . import escape, mathml
from .blocks import displays

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiling the templates is a quarter of a worksheet's run; Jinja keeps the compiled
    code in a private per-user folder (mode 0700), keyed by each template's source, so an
    edited template is recompiled. A cache that cannot be written only costs that time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def _template_cache() -> jinja2.BytecodeCache | None:
    try:
        return _TemplateCache()
    except (OSError, RuntimeError):
        return None


@functools.cache
def _environment(fmt: str, user_templates: Path | None = None) -> jinja2.Environment:
    """One environment per format, kept: compiling the templates costs more than rendering.

    A user's own templates (`--templates DIR`, looked up before ours) render in Jinja's
    sandbox: a shared template may read the document's data but not reach Python."""
    _, autoescape, text = _TARGETS[fmt]
    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(TEMPLATES)
    factory: type[jinja2.Environment] = jinja2.Environment
    if user_templates is not None:
        loader = jinja2.ChoiceLoader([_ConfinedLoader(user_templates), loader])
        factory = _UserSandbox
    environment = factory(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=autoescape,
        bytecode_cache=_template_cache() if user_templates is None else None,
    )
    environment.filters["text"] = text
    environment.filters["yaml_string"] = escape.yaml_string
    environment.filters["displays"] = displays  # a LaTeX block as displays a page may break between
    # HTML pages' formulas as MathML (mathjax.html.j2): converted here, nothing runs in the page.
    environment.filters["mathml_inline"] = mathml.inline
    environment.filters["mathml_line"] = mathml.line
    environment.filters["mathml_block"] = mathml.block
    if user_templates is not None:
        environment.globals["range"] = _UserSandbox.bounded_range
        environment.template_class = _GuardedTemplate
        environment.tex_output = fmt in ("tex", "tex_body")  # type: ignore[attr-defined]
    return environment


class _ConfinedLoader(jinja2.FileSystemLoader):
    """A user's folder, read only inside it: a link that resolves outside is refused."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.root = os.path.realpath(folder)

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        real = os.path.realpath(filename or "")
        if os.path.commonpath([real, self.root]) != self.root:
            raise jinja2.TemplateError(f"template {template} is a link to {real}, outside the templates folder; refused")
        return source, filename, uptodate


MAX_RANGE = 10_000  # items in one range()
MAX_ITEMS = 1_000_000  # range items over one render
MAX_OUTPUT = 20_000_000  # characters of one document
MAX_SECONDS = 20.0
MAX_REPEAT = 1_000_000  # length of a repeated string or list, digits of a power


class _Budget:
    def __init__(self) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.items = 0

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise jinja2.TemplateError(f"a template ran for more than {MAX_SECONDS:.0f} seconds; stopped")


_budget: list[_Budget] = []  # the render under way (renders do not run in threads)


def _current() -> _Budget:
    return _budget[-1] if _budget else _Budget()


class _UserSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with every call, loop step and operator on a budget."""

    intercepted_binops = frozenset({"*", "**", "+"})

    @staticmethod
    def bounded_range(*args: int) -> Iterator[int]:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise jinja2.TemplateError(f"range of {len(numbers)} items; at most {MAX_RANGE} are allowed in a template")
        budget = _current()
        for number in numbers:
            budget.items += 1
            if budget.items > MAX_ITEMS:
                raise jinja2.TemplateError(f"a template looped more than {MAX_ITEMS} times; stopped")
            if budget.items % 1000 == 0:
                budget.check()
            yield number

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's signature)
        _current().check()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _current().check()
        if operator == "**" and isinstance(left, (int, float)) and isinstance(right, (int, float)):
            if abs(right) * max(1.0, len(str(int(abs(left)))) if isinstance(left, int) else 1.0) > MAX_REPEAT:
                raise jinja2.TemplateError(f"{left} ** {right} is too large for a template")
        if operator == "*":
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, (str, list, tuple)) and isinstance(count, int) and len(sequence) * count > MAX_REPEAT:
                    raise jinja2.TemplateError(f"a repeated text or list of {len(sequence) * count} items; at most {MAX_REPEAT}")
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            if len(left) + len(right) > MAX_OUTPUT:
                raise jinja2.TemplateError("a joined text or list too large for a template")
        return super().call_binop(context, operator, left, right)


# Commands and primitives that read or write files, embed them, or build a command's name
# from pieces (which would get around the list). None is used by derive's own templates.
FORBIDDEN_TEX = re.compile(
    r"\\(XeTeX[A-Za-z]*|includegraphics|includepdf|input|include|InputIfFileExists|IfFileExists|openin|openout|read"
    r"|readline|write|immediate|special|font|csname|ifcsname|begincsname|catcode|lccode|uccode|scantokens|detokenize"
    r"|string|lowercase|uppercase|endlinechar|everyeof|makeatletter|ExplSyntaxOn|pgfimage|pgfdeclareimage"
    r"|lstinputlisting|verbatiminput|directlua|pdfobj|pdfximage|closein|closeout|newread|newwrite)"
    r"(?![A-Za-z])|\^\^|\\addplot\s*\+?\s*graphics"
    # a font named by its file's path is read from anywhere: fonts only by name
    r"|\\[A-Za-z]*font[A-Za-z]*\*?\s*(\[[^\]]*\])?\s*\{[^}]*[/\[]"
)
# Packages a user's TeX may load: those of derive's own preamble.
ALLOWED_PACKAGES = {"geometry", "amsmath", "amssymb", "booktabs", "fontspec", "kotex", "longtable", "pgfplots", "tikz"}
PACKAGE_LOAD = re.compile(r"\\(?:usepackage|RequirePackage)\s*(?:\[[^\]]*\])?\s*\{([^}]*)\}|\\(?:usepackage|RequirePackage)(?![A-Za-z])")


def _forbidden_tex(text: str) -> str | None:
    forbidden = FORBIDDEN_TEX.search(text)
    if forbidden:
        return forbidden.group(0)
    for load in PACKAGE_LOAD.finditer(text):
        names = {name.strip() for name in (load.group(1) or "?").split(",")}
        if not names <= ALLOWED_PACKAGES:
            return load.group(0)
    return None


class _GuardedTemplate(jinja2.Template):
    """A template of a user's environment: bounded, one error, TeX without file access."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        _budget.append(_Budget())
        try:
            chunks: list[str] = []
            size = 0
            for chunk in self.generate(*args, **kwargs):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise jinja2.TemplateError(f"a template wrote more than {MAX_OUTPUT:,} characters; stopped")
                _current().check()
                chunks.append(chunk)
            text = "".join(chunks)
        except jinja2.TemplateError:
            raise
        except RecursionError:
            raise jinja2.TemplateError("a template called itself too deeply") from None
        except Exception as error:  # noqa: BLE001 (any failure of a user's template is their mistake)
            raise jinja2.TemplateError(f"{type(error).__name__}: {error}") from None
        finally:
            _budget.pop()
        if getattr(self.environment, "tex_output", False):
            forbidden = _forbidden_tex(text)
            if forbidden:
                raise jinja2.TemplateError(
                    f"the TeX your templates made uses {forbidden[:80]}, which can read or write files or build "
                    f"command names; it is not allowed in TeX from --templates"
                )
        return text


# Per format: the template, whether Jinja escapes HTML, and how user text is made literal.
_TARGETS: dict[str, tuple[str, bool, Callable[[str], str]]] = {
    "md": ("document.md.j2", False, escape.markdown_text),
    "tex": ("document.tex.j2", False, escape.tex_text),
    "tex_body": ("tex/body.tex.j2", False, escape.tex_text),
    "html": ("document.html.j2", True, lambda text: markupsafe.Markup(escape.html_text(text))),
    "svg": ("network.svg.j2", True, escape.html_text),
}
