"""User trade tables in the UN Comtrade export format: export destinations for a run.

A ministry (or researcher) downloads bilateral trade from UN Comtrade (comtradeplus.un.org:
"Download" as CSV) and passes it to :func:`exports_from_comtrade`, which turns the export rows
into the ``origin, destination, to_stage, share`` table of
:class:`ewaste_tracker.flows.transfer.ExportDestinations`:

* rows of HS 2022 heading **85.49** (electrical and electronic waste and scrap; Basel
  A1181 / Y49) are e-waste and go to the destination's ``ewaste_stage`` (default
  ``recycling_informal``; ``preprocessing`` for shipments to licensed recyclers);
* rows of any other code of HS chapters 84, 85, 90, 94 or 95 listed in ``used_codes`` are used
  equipment and go to the destination's ``use`` stage;
* world and area aggregates (partner ``W00``, ``WLD``, ``_X``) are skipped; a partner that is
  not a modelled region becomes ``ROW``.

Shares are net weights (kg) over each origin's total of the chosen year. Both the Comtrade
Plus column names (``refYear, reporterISO, partnerISO, flowCode, cmdCode, netWgt``) and the
legacy ones (``Year, Reporter ISO, Partner ISO, Trade Flow, Commodity Code, Netweight (kg)``)
are read. The table is validated here, at the boundary: every problem is an
:class:`~ewaste_tracker.errors.InputError` naming the file, line and column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError, InputErrors

__all__ = ["EWASTE_HEADING", "exports_from_comtrade"]

logger = logging.getLogger(__name__)

EWASTE_HEADING = "8549"
"""HS 2022 heading of e-waste (WCO; in force from 1 January 2022)."""
ALIASES = {
    "year": ("refYear", "Year", "period", "Period"),
    "reporter": ("reporterISO", "Reporter ISO", "reporterCode"),
    "partner": ("partnerISO", "Partner ISO", "partnerCode"),
    "flow": ("flowCode", "Trade Flow", "flowDesc", "Trade Flow Code"),
    "code": ("cmdCode", "Commodity Code"),
    "weight": ("netWgt", "Netweight (kg)", "NetWeight (kg)", "netWeight"),
}
AGGREGATES = {"W00", "WLD", "_X", "X1", "XX", "0"}
EXPORT_FLOWS = {"X", "Export", "2"}
STAGES = ("recycling_informal", "preprocessing")


def _column(frame: pd.DataFrame, name: str, path: Path) -> str:
    for alias in ALIASES[name]:
        if alias in frame.columns:
            return alias
    raise InputError(
        "not a UN Comtrade export table", path=path, column=ALIASES[name][0],
        expected=f"a column {' or '.join(repr(a) for a in ALIASES[name])}",
    )  # fmt: skip


def exports_from_comtrade(
    path: str | Path,
    *,
    regions: Sequence[str],
    year: int | None = None,
    ewaste_stage: str = "recycling_informal",
    used_codes: Iterable[str] = (),
) -> pd.DataFrame:
    """Export destinations from a UN Comtrade CSV (module docstring).

    Parameters
    ----------
    path
        The CSV as downloaded.
    regions
        ISO3 codes of the run (reporters must be among them; other partners become ``ROW``).
    year
        Year to use; default the latest year in the file.
    ewaste_stage
        Destination stage of HS 8549 shipments.
    used_codes
        HS codes (prefixes) of used equipment to count as well (e.g. ``"847130"`` laptops).

    Returns
    -------
    pandas.DataFrame
        ``origin, destination, to_stage, share, hs_code`` with shares summing to 1 per origin.

    Raises
    ------
    InputError
        A missing column, an unreadable number, an unknown reporter, no export rows.
    """
    path = Path(path)
    if ewaste_stage not in STAGES:
        raise InputError("unknown destination stage", column="ewaste_stage", value=ewaste_stage,
                         expected=" or ".join(STAGES))  # fmt: skip
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the file ({exc.__class__.__name__})", path=path) from exc
    if raw.empty:
        raise InputError("the table has no rows", path=path)
    col = {k: _column(raw, k, path) for k in ALIASES}
    errors: list[InputError] = []
    weight = pd.to_numeric(raw[col["weight"]].str.replace(",", "", regex=False), errors="coerce")
    yr = pd.to_numeric(raw[col["year"]].str[:4], errors="coerce")
    for name, values, what in ((col["weight"], weight, "a net weight in kg (>= 0)"),
                               (col["year"], yr, "a year such as 2022")):  # fmt: skip
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(float)) | (values.to_numpy(float) < 0))
        for i in bad[:20]:
            errors.append(InputError("not a number", path=path, row=int(i) + 2, column=name,
                                     value=raw[name].iloc[i], expected=what))  # fmt: skip
    if errors:
        raise InputErrors(errors)
    table = pd.DataFrame(
        {
            "year": yr.astype(int),
            "origin": raw[col["reporter"]].str.strip().str.upper(),
            "destination": raw[col["partner"]].str.strip().str.upper(),
            "flow": raw[col["flow"]].str.strip(),
            "code": raw[col["code"]].str.strip(),
            "kg": weight,
            "line": np.arange(len(raw)) + 2,
        }
    )
    table = table[table["flow"].isin(EXPORT_FLOWS) & ~table["destination"].isin(AGGREGATES)]
    used = tuple(str(c) for c in used_codes)
    is_waste = table["code"].str.startswith(EWASTE_HEADING)
    is_used = table["code"].str.startswith(used) if used else pd.Series(False, table.index)
    table = table[is_waste | is_used].assign(
        to_stage=np.where(is_waste[is_waste | is_used], ewaste_stage, "use"),
        hs_code=lambda t: t["code"],
    )
    if table.empty:
        raise InputError("no export rows of HS 8549 (or of the used-equipment codes given)",
                         path=path, column=col["code"])  # fmt: skip
    known = set(regions)
    unknown = table[~table["origin"].isin(known)]
    if len(unknown):
        first = unknown.iloc[0]
        raise InputError("reporter is not a modelled region", path=path, row=int(first["line"]),
                         column=col["reporter"], value=first["origin"],
                         expected="an ISO3 code of the run")  # fmt: skip
    pick = int(table["year"].max()) if year is None else int(year)
    table = table[table["year"] == pick]
    if table.empty:
        raise InputError("no export rows in that year", path=path, column=col["year"],
                         value=year)  # fmt: skip
    table["destination"] = table["destination"].where(table["destination"].isin(known), "ROW")
    table.loc[table["destination"] == "ROW", "to_stage"] = ""
    out = table.groupby(["origin", "destination", "to_stage"], as_index=False).agg(
        kg=("kg", "sum"), hs_code=("hs_code", lambda s: ",".join(sorted(set(s))))
    )
    out = out[out["origin"] != out["destination"]]
    total = out.groupby("origin")["kg"].transform("sum")
    out = out[total > 0].assign(share=lambda t: t["kg"] / t.groupby("origin")["kg"]
                                .transform("sum"))  # fmt: skip
    logger.info("comtrade %s: %d origins, %d links (%d)", path.name, out["origin"].nunique(),
                len(out), pick)  # fmt: skip
    return out[["origin", "destination", "to_stage", "share", "hs_code"]].reset_index(drop=True)
