"""Errors raised at the tracker's boundary (files, tables and user input).

Every error names what the user must fix: the file (or sheet), the row as a person counts it
(the spreadsheet/CSV line, header = line 1), the column, the value found and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class InputError(ValueError):
    """A problem in user-supplied input.

    Parameters
    ----------
    message
        What is wrong, in words.
    path
        File (or ``file:sheet``) the value came from.
    row
        Line number a person sees in the file (header = 1), or ``None`` for file-level errors.
    column
        Column name, or ``None``.
    value
        The offending value, when there is one.
    expected
        What would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        self.reason = message
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = ", ".join(where)
        text = f"{text}: {self.reason}" if text else self.reason
        if self.value is not None:
            text += f" (got {self.value!r}"
            text += f"; expected {self.expected})" if self.expected else ")"
        elif self.expected:
            text += f" (expected {self.expected})"
        return text


class InputErrors(InputError):
    """Several input errors reported at once.

    Parameters
    ----------
    errors
        The individual errors, in file order.
    max_shown
        How many are written into the message; all are kept in :attr:`errors`.
    """

    def __init__(self, errors: Sequence[InputError], *, max_shown: int = 50) -> None:
        self.errors = list(errors)
        lines = [str(e) for e in self.errors[:max_shown]]
        if len(self.errors) > max_shown:
            lines.append(f"... and {len(self.errors) - max_shown} more")
        first = self.errors[0] if self.errors else None
        super().__init__(
            f"{len(self.errors)} error(s):\n  " + "\n  ".join(lines),
            path=None if first is None else first.path,
        )

    def _format(self) -> str:
        return self.reason
