"""Run the code of a documentation page, the way a reader would, and check its shown output.

A page's fenced blocks run in order in one folder:

* ```` ```python ```` blocks in one namespace per page (in this process, so the estimate of
  one block is reused by the next, as in a notebook);
* ```` ```console ```` blocks through ``bash -e -o pipefail``: lines starting with ``$ `` are
  commands (a line ending in ``\\`` continues on the next), the lines after a command are
  its expected output;
* a ```` ```text ```` block right after a ``python`` or ``console`` block is that block's
  expected output;
* other blocks (``bash``, ``yaml``, ``csv``, ...) are shown, not run.

Expected output is matched line by line, in order, against the lines the block printed
(stdout and stderr together, as a reader sees them): every expected line must occur, in that
order, among the actual lines (lines the page leaves out may come between). Within a line,
``...`` matches anything, runs of spaces match any spacing, and numbers match within a
relative tolerance when written with a decimal point or a thousands separator (default
estimates change as the defaults are recalibrated; the tolerance keeps a page honest without
pinning every digit); integers written plainly (years, counts) and version strings must match
exactly.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import subprocess
import traceback
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(
    r"^```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE
)
RUNNABLE = ("python", "console")
NUM = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)*(?:[eE][+-]?\d+)?"
NUMBER = re.compile(rf"(?<![\w.]){NUM}(?![\w.])")
NUMBER_RTOL = 0.25
"""Relative tolerance of an approximate number (written with ``.`` or ``,``)."""


@dataclass
class Block:
    """One runnable block of a page and the output the page shows for it."""

    lang: str
    code: str
    expected: list[str]
    line: int

    def __str__(self) -> str:
        return f"{self.lang} block at line {self.line}"


def blocks_from_markdown(text: str) -> list[Block]:
    """The runnable blocks of a page, in order, each with its expected output lines."""
    out: list[Block] = []
    fences = list(FENCE.finditer(text))
    for i, match in enumerate(fences):
        lang, body = match["lang"], match["body"]
        line = text.count("\n", 0, match.start()) + 1
        if lang == "console":
            code, expected = _console(body)
            out.append(Block(lang, code, expected, line))
        elif lang == "python":
            out.append(Block(lang, body, [], line))
        elif lang == "text" and out and i > 0 and fences[i - 1].end() <= match.start():
            between = text[fences[i - 1].end() : match.start()]
            if not between.strip() and _is_block(fences[i - 1], out[-1], text):
                out[-1].expected += _lines(body)
    return out


def _is_block(fence: re.Match[str], block: Block, text: str) -> bool:
    return text.count("\n", 0, fence.start()) + 1 == block.line


def _console(body: str) -> tuple[str, list[str]]:
    commands: list[str] = []
    expected: list[str] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            command = [line[2:]]
            while command[-1].rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                command.append(lines[i])
            commands.append("\n".join(command))
        elif line.strip():
            expected.append(line)
        i += 1
    return "\n".join(commands) + "\n", expected


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ------------------------------------------------------------------------------- matching


def _pattern(expected: str) -> tuple[re.Pattern[str], list[str]]:
    """A regex for one expected line and the numbers it names, in order."""
    numbers: list[str] = []
    parts = []
    chunks = expected.strip().split("...")
    for j, chunk in enumerate(chunks):
        chunk = chunk.lstrip() if j > 0 else chunk  # "..." absorbs the spaces beside it
        chunk = chunk.rstrip() if j < len(chunks) - 1 else chunk
        pos, piece = 0, []
        for m in NUMBER.finditer(chunk):
            piece.append(_text(chunk[pos : m.start()]))
            if _exact(m.group(0)):  # in the pattern itself, so every alignment is tried
                piece.append(rf"(?<![\w.]){re.escape(m.group(0))}(?![\w.])")
            else:
                piece.append(rf"(?<![\w.])({NUM})(?![\w.])")
                numbers.append(m.group(0))
            pos = m.end()
        piece.append(_text(chunk[pos:]))
        parts.append("".join(piece))
    return re.compile(r".*?".join(parts)), numbers


def _text(chunk: str) -> str:
    """Literal text, any run of spaces matching any spacing (at least one space)."""
    words = chunk.split()
    if not words:
        return r"\s+" if chunk else ""
    lead = r"\s+" if chunk[0].isspace() else ""
    trail = r"\s+" if chunk[-1].isspace() else ""
    return lead + r"\s+".join(re.escape(word) for word in words) + trail


def _exact(number: str) -> bool:
    """A year, a count, a code or a version: written without a decimal point or separator."""
    return number.count(".") > 1 or re.fullmatch(r"-?\d+", number) is not None


def _number_matches(want: str, got: str) -> bool:
    w, g = float(want.replace(",", "")), float(got.replace(",", ""))
    return math.isclose(w, g, rel_tol=NUMBER_RTOL, abs_tol=1e-9)


def line_matches(expected: str, actual: str) -> bool:
    """Whether one actual line shows what one expected line says (see the module)."""
    pattern, numbers = _pattern(expected)
    for m in pattern.finditer(actual):
        if all(_number_matches(w, g) for w, g in zip(numbers, m.groups(), strict=True)):
            return True
    return False


def missing_lines(expected: list[str], actual: str) -> list[str]:
    """Expected lines not found, in order, among the actual output's lines."""
    lines = actual.splitlines()
    pos = 0
    missing = []
    for want in expected:
        for k in range(pos, len(lines)):
            if line_matches(want, lines[k]):
                pos = k + 1
                break
        else:
            missing.append(want)
    return missing


# -------------------------------------------------------------------------------- running


def run_block(block: Block, namespace: dict[str, object], cwd: Path, env: dict[str, str]) -> str:
    """Run one block in ``cwd``; return what it printed; raise AssertionError if it fails."""
    if block.lang == "python":
        buffer = io.StringIO()
        old = Path.cwd()
        os.chdir(cwd)
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                exec(compile(block.code, str(block), "exec"), namespace)
        except Exception as exc:
            raise AssertionError(
                f"{block} failed:\n{block.code}\n{buffer.getvalue()}\n{traceback.format_exc()}"
            ) from exc
        finally:
            os.chdir(old)
        return buffer.getvalue()
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.code],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    output = proc.stdout
    if proc.returncode != 0:
        raise AssertionError(f"{block} exited {proc.returncode}:\n{block.code}\n{output}")
    return output


def run_page(path: Path, cwd: Path, env: dict[str, str]) -> list[tuple[Block, str]]:
    """Run every block of a page in order; check each shown output. Returns what ran."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    ran = []
    for block in blocks_from_markdown(path.read_text(encoding="utf-8")):
        output = run_block(block, namespace, cwd, env)
        missing = missing_lines(block.expected, output)
        if missing:
            raise AssertionError(
                f"{path.name}, {block}: expected lines not printed:\n  "
                + "\n  ".join(missing)
                + f"\n--- printed ---\n{output}"
            )
        ran.append((block, output))
    return ran
