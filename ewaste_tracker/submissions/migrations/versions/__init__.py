"""Revisions of the PostgreSQL store's schema, oldest first."""

from __future__ import annotations

__all__ = ["split_statements"]


def split_statements(script: str) -> list[str]:
    """Split on ``;`` at line ends outside ``$$`` bodies."""
    out, cur, in_body = [], [], False
    for line in script.splitlines():
        cur.append(line)
        in_body ^= line.count("$$") % 2 == 1
        if not in_body and line.rstrip().endswith(";"):
            stmt = "\n".join(cur).strip()
            if stmt.strip(";"):
                out.append(stmt)
            cur = []
    rest = "\n".join(cur).strip()
    if rest:
        out.append(rest)
    return out
