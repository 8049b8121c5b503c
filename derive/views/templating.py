"""The Jinja2 environments documents render in: derive's own templates (compiled once and
cached), and a user's `--templates DIR` looked up before them, in Jinja's sandbox."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import jinja2
import markupsafe
from jinja2.sandbox import SandboxedEnvironment

from . import escape

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


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
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(user_templates), loader])
        factory = SandboxedEnvironment
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
    return environment


# Per format: the template, whether Jinja escapes HTML, and how user text is made literal.
_TARGETS: dict[str, tuple[str, bool, Callable[[str], str]]] = {
    "md": ("document.md.j2", False, escape.markdown_text),
    "tex": ("document.tex.j2", False, escape.tex_text),
    "tex_body": ("tex/body.tex.j2", False, escape.tex_text),
    "html": ("document.html.j2", True, lambda text: markupsafe.Markup(escape.html_text(text))),
    "svg": ("network.svg.j2", True, escape.html_text),
}
