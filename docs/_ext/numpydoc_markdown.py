"""Griffe extension: the reStructuredText of numpydoc docstrings, read as Markdown.

The package's docstrings follow numpydoc (reStructuredText inside the sections), the style
Sphinx renders. mkdocstrings renders docstrings as Markdown, so before they are parsed this
extension rewrites the few reStructuredText constructs they use:

* roles (``:func:`estimate```, ``:class:`~ewaste_tracker.estimate.Estimate```, ``:mod:``,
  ``:meth:``, ``:attr:``, ``:data:``, ``:exc:``, ``:obj:``) become cross-references, resolved
  in the docstring's scope the way Sphinx resolves them; a target that is not rendered on the
  site (a private helper, another library) stays code, without a warning;
* ``:math:`x``` and ``.. math::`` blocks become ``\\(x\\)`` and ``\\[x\\]``, which
  ``pymdownx.arithmatex`` keeps for the MathML hook (``docs/_ext/mathml.py``);
* a paragraph ending in ``::`` (a literal block follows) ends in ``:``;
* reStructuredText section underlines inside module docstrings that numpydoc does not know
  (``Subcommands``, ``Named model assumptions``) become bold paragraph titles, so they do not
  turn into page-sized Markdown headings.

Nothing in the package changes: the docstrings stay valid numpydoc for Sphinx or ``help()``.
"""

from __future__ import annotations

import ast
import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|meth|class|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
MATH_ROLE = re.compile(r":math:`([^`]+)`")
UNDERLINE = re.compile(r"^(\S[^\n]*)\n(-{3,}|={3,})[ \t]*$", re.MULTILINE)
# numpydoc sections the numpy parser understands; other underlined titles are plain text
NUMPY_SECTIONS = {
    "parameters", "other parameters", "returns", "yields", "receives", "raises", "warns",
    "warnings", "see also", "notes", "references", "examples", "attributes", "methods",
    "functions", "classes", "modules", "deprecated",
}  # fmt: skip


LAZY: dict[str, str] = {}
"""Public names of ``ewaste_tracker`` (its ``_LAZY`` table) → where they are defined."""


def _target(obj: griffe.Object, name: str) -> str:
    """The full path of ``name`` seen from ``obj`` (Sphinx's lookup), or ``name`` itself."""
    name = name.strip()
    head, _, tail = name.removeprefix("ewaste_tracker.").partition(".")
    if name.startswith("ewaste_tracker.") and head in LAZY and not tail:
        return LAZY[head]  # ewaste_tracker.estimate -> ewaste_tracker.estimate.estimate
    if name.startswith("ewaste_tracker"):
        return name
    head, _, rest = name.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            base = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            scope = scope.parent
            continue
        return f"{base}.{rest}" if rest else base
    return name


def _roles(obj: griffe.Object, text: str) -> str:
    def link(match: re.Match[str]) -> str:
        kind, short, name = match.groups()
        target = _target(obj, name)
        shown = name.rsplit(".", 1)[-1] if short else name
        if kind in ("func", "meth"):
            shown += "()"
        code = f"<code>{html.escape(shown)}</code>"
        if not target.startswith("ewaste_tracker"):
            return code
        return f'<autoref identifier="{html.escape(target)}" optional>{code}</autoref>'

    return ROLE.sub(link, text)


def _math(text: str) -> str:
    text = MATH_ROLE.sub(lambda m: f"\\({m.group(1)}\\)", text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if stripped.startswith(".. math::"):
            indent = line[: len(line) - len(stripped)]
            body = [stripped[len(".. math::") :].strip()]
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > len(indent)
            ):
                body.append(lines[i].strip())
                i += 1
            tex = " ".join(b for b in body if b)
            out += ["", f"{indent}\\[{tex}\\]", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _literal_blocks(text: str) -> str:
    # "text::" + blank line + indented block: Markdown shows the block as code already
    return re.sub(r"(\S) ?::[ \t]*\n(?=[ \t]*\n)", r"\1:\n", text)


def _titles(text: str) -> str:
    def title(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.lower() in NUMPY_SECTIONS:
            return match.group(0)
        return f"**{name}**\n"

    return UNDERLINE.sub(title, text)


def markdown_from_numpydoc(obj: griffe.Object, text: str) -> str:
    """Rewrite the reStructuredText constructs of a docstring as Markdown (see module)."""
    return _titles(_literal_blocks(_roles(obj, _math(text))))


class NumpydocMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package once it is loaded (names resolvable)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk the package's objects (not aliases) and rewrite their docstrings."""
        lazy = pkg.members.get("_LAZY")
        if lazy is not None and not lazy.is_alias and getattr(lazy, "value", None) is not None:
            table = ast.literal_eval(str(lazy.value))
            LAZY.update({k: f"{v}.{k}" for k, v in table.items() if v})
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = markdown_from_numpydoc(obj, obj.docstring.value)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
