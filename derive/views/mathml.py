"""Every formula on an HTML page as MathML, converted when the page is written.

Browsers render MathML Core natively (Chromium since 109, Firefox, Safari), so an HTML page
needs no script, no font download and no network to show its math, and nothing beyond
what pip installs (latex2mathml, a pure-Python converter) to be written. The converter's
tree is not trusted as markup: it writes text unescaped (`\\text{<b>}` stays `<b>`) and
turns `\\href` and `\\style` into attributes, so the tree is serialised here, element by
element, keeping only MathML elements and presentation attributes and escaping every
text. A command the converter does not know (it would show `\\foo` as a letter) is a
`ValueError`: derive's own formulas must all convert.

latex2mathml knows no `aligned` or `gathered`; the display rows are laid out here as an
`mtable` whose cells are converted one by one (aligned: right, left, right, ... at each
`&`, as TeX does)."""

from __future__ import annotations

import functools
import html
import re

import markupsafe
from latex2mathml.converter import convert_to_element

_ELEMENTS = frozenset(
    "math mrow mi mn mo ms mtext mspace msub msup msubsup munder mover munderover mfrac msqrt mroot "
    "mtable mtr mtd mstyle mpadded mphantom menclose".split()
)
_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence form separator largeop movablelimits accent accentunder width height "
    "depth lspace rspace linethickness scriptlevel displaystyle minsize maxsize symmetric notation".split()
)
_GAP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(pt|em|ex|mm)\s*$")


_TALL = frozenset("mfrac msqrt mroot mtable munder mover munderover".split())  # what a \left( must grow around


def _serialise(element: object, after_operator: bool = True, in_flat_row: bool = False) -> str:
    """The converter's tree as markup: MathML elements only, presentation attributes only,
    every text escaped (the converter stores entity references as text: `&#x0003D;`).
    Three fixes for MathML Core: a sign after an operator or an opening fence, or first in a
    row, is a prefix sign as in TeX (`= -2`, `(-0.708)`), not a binary minus with space
    around it; `\\boxed`'s menclose, which MathML Core lacks, is a bordered row; and the
    fences of a row of one line's height (`\\left(-0.8\\right)`, no fraction or root) do not stretch, as Chromium
    sets stretched parentheses around a number with a wide gap each side, `( -0.8 )`."""
    tag = element.tag  # type: ignore[attr-defined]
    if tag not in _ELEMENTS:
        raise ValueError(f"MathML has no element {tag!r} for this formula")
    kept = {name: value for name, value in element.attrib.items() if name in _ATTRIBUTES}  # type: ignore[attr-defined]
    text = html.unescape(element.text or "")  # type: ignore[attr-defined]
    if tag in ("mi", "mo") and text.startswith("\\") and len(text) > 1:
        raise ValueError(f"LaTeX command {text} has no MathML form")
    if tag == "mo" and text in ("-", "\u2212", "+") and after_operator:
        kept["form"] = "prefix"
    if tag == "mo" and in_flat_row and kept.get("fence") == "true":
        kept["stretchy"] = "false"
    if tag == "menclose":
        tag, kept = "mrow", {"class": "boxed"}
    attributes = "".join(f' {name}="{html.escape(value)}"' for name, value in sorted(kept.items()))
    parts, previous_operator = [html.escape(text, quote=False)], True
    flat = tag == "mrow" and not any(inner.tag in _TALL for inner in element.iter())  # type: ignore[attr-defined]
    for child in element:  # type: ignore[attr-defined]
        parts.append(_serialise(child, previous_operator, flat) + html.escape(html.unescape(child.tail or ""), quote=False))
        previous_operator = child.tag == "mo" and child.attrib.get("form") != "postfix"
    return f"<{tag}{attributes}>{''.join(parts)}</{tag}>"


_PRIMED_SUPERSCRIPT = re.compile(r"('+)\^(\{|\\?\w)")


def _primes_into_superscripts(latex: str) -> str:
    r"""TeX reads `L''^{(1)}` (a later iteration's loss on sample 1) as one superscript,
    `L^{\prime\prime(1)}`; latex2mathml calls it a double superscript. Written that way,
    both agree."""
    def merged(match: re.Match[str]) -> str:
        primes = r"\prime" * len(match.group(1))
        return "^{" + primes + " " if match.group(2) == "{" else "^{" + primes + " " + match.group(2) + "}"

    return _PRIMED_SUPERSCRIPT.sub(merged, latex)


@functools.lru_cache(maxsize=4096)
def _inner(latex: str) -> str:
    """One formula's content, without its <math> element (an empty cell: an empty row).
    Kept: the handout, worksheet and key of a problem share most of their formulas, and
    converting is most of an HTML page's time."""
    if not latex.strip():
        return "<mrow></mrow>"
    math = convert_to_element(_primes_into_superscripts(latex))
    return "".join(_serialise(child) for child in math)


def inline(latex: str) -> markupsafe.Markup:
    """`\\(latex\\)`: a formula inside a sentence or a table cell."""
    return markupsafe.Markup(f"<math>{_inner(str(latex))}</math>")


def line(latex: str) -> markupsafe.Markup:
    """`\\[latex\\]`: one displayed formula."""
    return markupsafe.Markup(f'<math display="block"><mstyle displaystyle="true">{_inner(str(latex))}</mstyle></math>')


def _cells(row: str) -> list[str]:
    """A row of an aligned environment split at its `&`s; those inside braces or inside an
    environment of their own (a pmatrix's columns) are left alone."""
    cells, depth, start = [], 0, 0
    for index, char in enumerate(row):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == "\\" and row.startswith(("\\begin{", "\\end{"), index):
            depth += 1 if row.startswith("\\begin{", index) else -1
        elif char == "&" and depth == 0 and (index == 0 or row[index - 1] != "\\"):
            cells.append(row[start:index])
            start = index + 1
    return [*cells, row[start:]]


def block(rows: list[str], environment: str = "aligned", gap: str = "10pt", closing: str = "") -> markupsafe.Markup:
    """Display rows, `gap` apart: `aligned` lines up the cells between `&`s (right, left,
    right, ...), `gathered` centres each row."""
    if environment not in ("aligned", "gathered"):
        raise ValueError(f"no MathML layout for the environment {environment!r}")
    spacing = _GAP.match(gap or "0pt")
    if spacing is None:
        raise ValueError(f"a row gap is a length such as 10pt; got {gap!r}")
    every = [*map(str, rows), *([str(closing)] if closing else [])]
    table = []
    for number, row in enumerate(every):
        below = f"{spacing.group(1)}{spacing.group(2)}" if number < len(every) - 1 else "0"
        cells = _cells(row) if environment == "aligned" else [row]
        aligns = ("right", "left") if environment == "aligned" else ("center",)
        table.append(
            "<mtr>"
            + "".join(
                # Chromium lays out a cell by the -webkit- alignments only (a plain `right`
                # is ignored and the cell starts left); Firefox and Safari read columnalign.
                f'<mtd columnalign="{aligns[column % len(aligns)]}" style="text-align: {aligns[column % len(aligns)]}; '
                f'text-align: -webkit-{aligns[column % len(aligns)]}; padding: 0.1em 0 {below} 0">'
                f"<mstyle displaystyle=\"true\">{_inner(cell)}</mstyle></mtd>"
                for column, cell in enumerate(cells)
            )
            + "</mtr>"
        )
    return markupsafe.Markup(f'<math display="block"><mtable>{"".join(table)}</mtable></math>')
