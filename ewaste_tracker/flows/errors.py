"""Errors raised by the material-flow engine.

Each error subclasses a built-in (``ValueError``) so callers can catch it generically, carries
the coordinates of the problem as attributes, and builds a message that names them, so that a
person reading a log knows which node, year, row or column to look at.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MassBalanceError", "TransferCoefficientError"]


def _where(**parts: Any) -> str:
    """Join the non-empty coordinates of a problem, e.g. ``"region 'NGA', year 2020"``."""
    return ", ".join(f"{key} {value!r}" for key, value in parts.items() if value is not None)


class TransferCoefficientError(ValueError):
    """A transfer-coefficient or export-destination table is invalid.

    Parameters
    ----------
    message
        What is wrong, in words.
    row
        0-based position of the offending row in the table handed to the engine, or ``None``
        when the problem concerns an aggregate of rows (e.g. shares not summing to one).
    column
        Name of the offending column, or ``None``.
    region, product, year, node
        Coordinates of the problem where known; ``node`` is the stage (or ``(region, stage)``)
        whose out-transfers are concerned.
    """

    def __init__(
        self,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        region: str | None = None,
        product: str | None = None,
        year: int | None = None,
        node: Any = None,
    ) -> None:
        self.reason = message
        self.row = row
        self.column = column
        self.region = region
        self.product = product
        self.year = year
        self.node = node
        where = _where(row=row, column=column, node=node, region=region, product=product, year=year)
        super().__init__(f"{where}: {message}" if where else message)


class MassBalanceError(ValueError):
    """A node of the lifecycle graph does not balance (inputs != outputs + stock change).

    Parameters
    ----------
    message
        What is wrong, including the residual found and the tolerance.
    node
        The ``(region, stage)`` node, or ``("sysenv", "system")`` for the system-wide balance.
    year
        The year in which the residual is largest.
    product
        The product code concerned, when the check is per product.
    residual
        inputs - outputs - stock change, in tonnes.
    """

    def __init__(
        self,
        message: str,
        *,
        node: Any,
        year: int,
        product: str | None = None,
        residual: float | None = None,
    ) -> None:
        self.reason = message
        self.node = node
        self.year = year
        self.product = product
        self.residual = residual
        where = _where(node=node, year=year, product=product)
        super().__init__(f"{where}: {message}")
