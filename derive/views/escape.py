"""User text (titles, headings, names) made literal for each output format, so that a title
such as ``50% off \\input{x} <b>#1</b>`` is printed, never obeyed, and a student id such as
``=HYPERLINK(...)`` stays text in a spreadsheet. Math is not escaped here: it is built by the
derivation from validated names, not copied from user text."""

from __future__ import annotations

import json
import re

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "$": r"\$",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\textasciitilde{}",
}
_TEX_PATTERN = re.compile("|".join(re.escape(c) for c in _TEX_SPECIALS))

# Characters Markdown (kramdown, as Jekyll uses it) reads as markup anywhere in a line;
# ( ) + - ! matter only at a line start or after ], and user text never starts a line.
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]#|~])")
# What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula, by
# OWASP's CSV-injection rule: a first character = + - @, tab or carriage return (and line
# feed, which csv_cell turns a carriage return into). Their full-width forms (what a Korean
# or Japanese input method types) count too, as a precaution.
_FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_HTML_SPECIALS = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "$": "&#36;"}


def tex_text(text: str) -> str:
    """Text for a LaTeX body: every special character printed as itself."""
    return _TEX_PATTERN.sub(lambda match: _TEX_SPECIALS[match.group()], text)


def html_text(text: str) -> str:
    """Text for HTML; `$` too, so MathJax never finds a formula in a title."""
    return "".join(_HTML_SPECIALS.get(c, c) for c in text)


def markdown_text(text: str) -> str:
    """Text for a Markdown body: Markdown markup backslashed, then HTML specials as entities
    (in that order, so the entities' own `#` and `;` stay intact)."""
    return html_text(_MARKDOWN_SPECIALS.sub(r"\\\1", text))


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML), safe in front matter."""
    return json.dumps(text, ensure_ascii=False)


def csv_cell(text: str) -> str:
    """User text for a CSV cell, kept data: a cell a spreadsheet would take for a formula,
    now or once its leading spaces, tabs and line breaks are trimmed (`\\t=1+1`, ` =1+1`),
    gets OWASP's prefix, a single quote, which the spreadsheet shows as text. A carriage
    return inside becomes a line feed: csv.writer with lineterminator="\\n" quotes a cell
    holding \\n but writes a bare \\r unquoted, and a spreadsheet that ends rows at \\r would
    start a new row, and perhaps a formula, there. Other text is unchanged, so a name like
    O'Brien or a plain id reads back as it was."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text[:1] in _FORMULA_STARTS or text.lstrip()[:1] in _FORMULA_STARTS:
        return "'" + text
    return text
