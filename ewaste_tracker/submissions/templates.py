"""Submission file layouts: templates a ministry fills, and reading the files back.

Two layouts carry the same content (see :mod:`ewaste_tracker.submissions.submit` for the rules):

* **long** (CSV, or an Excel sheet): ``country,year,product,indicator,value,unit`` one reported
  number per row. The template adds ``default_t`` (the model's estimate, for reference) and
  ``description``; both are ignored when read back. ``value`` is the column to fill.
* **wide** (Excel): an ``about`` sheet with ``country`` in column A and the ISO3 code in
  column B, and one sheet per indicator with ``product``, ``description``, ``unit`` and one
  column per year to fill (yellow headers); the defaults sit to the right under
  ``default <year>`` headers (grey) and are ignored when read back.

:func:`records_from_file` turns any of these into raw string records that remember where each
cell came from (file or ``file:sheet``, the row a person sees, the column header), so that
validation can point at the cell.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import logging
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.submissions.rules import (
    EU6_CATEGORIES,
    FIELDS,
    IGNORED_COLUMNS,
    INDICATORS,
    Codes,
    SubmissionWarning,
)

logger = logging.getLogger(__name__)

INFO_SHEETS = frozenset({"about", "readme", "instructions", "defaults"})
_YEAR = re.compile(r"\d{4}(\.0+)?")

Records = tuple[pd.DataFrame, list[InputError], list[SubmissionWarning]]


def _empty_records(fields: Sequence[str] = FIELDS) -> pd.DataFrame:
    cols = [*fields, "_where", "_row", *(f"_col_{f}" for f in fields)]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


MAX_FILE_BYTES = 20_000_000
"""Largest submission file read (20 MB: a complete UNU-KEY submission is well under 1 MB)."""


def records_from_file(path: str | Path, *, fields: Sequence[str] = FIELDS) -> Records:
    """Read a submission file into raw records (no validation of the values).

    Parameters
    ----------
    path
        ``.csv``, ``.xlsx`` or ``.xlsm``.
    fields
        Required columns of the long layout (default the e-waste submission's
        :data:`~ewaste_tracker.submissions.rules.FIELDS`; the environmental submission
        passes its own).

    Returns
    -------
    records : pandas.DataFrame
        String columns ``country, year, product, indicator, value, unit`` and location columns
        ``_where``, ``_row``, ``_col_<field>`` (optional ``_where_country``, ``_row_country``).
    errors : list of InputError
        File-level and layout problems (empty file, missing columns, bad encoding ...).
    warnings : list of SubmissionWarning
    """
    path = Path(path)
    if not path.is_file():
        return _empty_records(fields), [InputError("file not found", path=path)], []
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        err = InputError(
            f"file is {size / 1e6:,.0f} MB; at most {MAX_FILE_BYTES / 1e6:.0f} MB are read",
            path=path, expected="one country's submission (well under 1 MB)",
        )  # fmt: skip
        return _empty_records(fields), [err], []
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return records_from_csv(path, fields=fields)
    if suffix in {".xlsx", ".xlsm"}:
        return records_from_xlsx(path, fields=fields)
    err = InputError("unsupported file type", path=path, value=suffix, expected=".csv or .xlsx")
    return _empty_records(fields), [err], []


def records_from_csv(path: Path, *, fields: Sequence[str] = FIELDS) -> Records:
    """Read a long-format CSV (UTF-8, comma, semicolon or tab separated)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        err = InputError(
            "file is not UTF-8 text", path=path, row=line, expected="a CSV saved as UTF-8"
        )
        return _empty_records(), [err], []
    if "\x00" in text:
        err = InputError("file contains NUL bytes (binary?)", path=path, expected="a text CSV")
        return _empty_records(), [err], []
    first = text.lstrip().split("\n", 1)[0]
    delim = ","
    if "," not in first:
        delim = ";" if ";" in first else ("\t" if "\t" in first else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for rec in reader:
            line, start = start, reader.line_num + 1
            if "".join(rec).strip():
                rows.append(rec)
                lines.append(line)
    except csv.Error as exc:
        err = InputError(f"cannot parse CSV: {exc}", path=path, row=reader.line_num)
        return _empty_records(), [err], []
    if not rows:
        return _empty_records(), [InputError("file is empty", path=path, expected="a header")], []
    return _long_records(rows[0], rows[1:], lines[0], lines[1:], str(path), fields=fields)


def _long_records(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    header_line: int,
    lines: Sequence[int],
    where: str,
    *,
    fields: Sequence[str] = FIELDS,
) -> Records:
    errors: list[InputError] = []
    warnings: list[SubmissionWarning] = []
    names = [h.strip().lower() for h in header]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n and n in seen:
            errors.append(
                InputError(
                    "duplicate column header",
                    path=where,
                    row=header_line,
                    column=n,
                    expected="each column once",
                )
            )
        seen.setdefault(n, i)
    missing = [f for f in fields if f not in seen]
    if missing:
        errors.append(
            InputError(
                f"missing column(s) {', '.join(missing)}",
                path=where,
                row=header_line,
                value=",".join(h.strip() for h in header),
                expected="header " + ",".join(fields),
            )
        )
    for n in names:
        if n and n not in fields and n not in IGNORED_COLUMNS:
            warnings.append(SubmissionWarning("column ignored", where, header_line, n))
    width = len(names)
    for rec, line in zip(rows, lines, strict=True):
        if len(rec) > width and any(c.strip() for c in rec[width:]):
            errors.append(
                InputError(
                    f"row has {len(rec)} cells but the header has {width}",
                    path=where,
                    row=line,
                    expected="one cell per header column (quote values containing commas)",
                )
            )
    if errors:
        return _empty_records(fields), errors, warnings
    if not rows:
        return _empty_records(fields), [InputError("no data rows", path=where, expected="rows")], []
    short = any(len(r) < width for r in rows)
    out = pd.DataFrame(
        {
            f: [r[seen[f]] if seen[f] < len(r) else "" for r in rows]
            if short
            else [r[seen[f]] for r in rows]
            for f in fields
        },
        dtype=object,
    )
    out["_where"] = where
    out["_row"] = np.asarray(lines, dtype=np.int64)
    for f in fields:
        out[f"_col_{f}"] = f
    return out, errors, warnings


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, _dt.datetime | _dt.date):
        return v.isoformat()
    return str(v)


MAX_SHEET_ROWS = 200_000
"""Rows read per sheet at most (empty ones included): a submission has a few thousand."""
MAX_UNPACKED_BYTES = 200_000_000
"""Largest total size of a workbook's unpacked parts (guards against zip bombs)."""


def _xlsx_parts(path: Path) -> tuple[InputError | None, bool]:
    """Check the workbook's unpacked size; tell whether any sheet holds a formula."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_UNPACKED_BYTES:
                return InputError(
                    f"workbook unpacks to {total / 1e6:,.0f} MB; at most "
                    f"{MAX_UNPACKED_BYTES / 1e6:.0f} MB are read", path=path,
                    expected="one country's submission",
                ), False  # fmt: skip
            formulas = False
            for info in infos:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with zf.open(info) as fh:
                        while chunk := fh.read(1 << 20):
                            if b"<f>" in chunk or b"<f " in chunk:
                                formulas = True
                                break
                if formulas:
                    break
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        err = InputError(
            f"not a readable Excel workbook ({type(exc).__name__})",
            path=path,
            expected="an .xlsx file saved by Excel or LibreOffice",
        )
        return err, False
    return None, formulas


def _declared_rows(ws: Any) -> int | None:
    """Last row of the sheet's declared size (``<dimension ref="A1:F10"/>``), if any."""
    try:
        ref = ws.calculate_dimension()
    except (ValueError, TypeError):
        return None
    match = re.search(r"(\d+)$", str(ref))
    return int(match.group(1)) if match else None


def _sheet_rows(ws: Any, formulas: Any, where: str) -> tuple[list[list[str]], list[InputError]]:
    """Every row of a read-only sheet, whatever its declared size, within the limits."""
    errors: list[InputError] = []
    declared = _declared_rows(ws)
    ws.reset_dimensions()  # read every row present, not the (possibly stale) declared size
    if formulas is not None:
        formulas.reset_dimensions()
    rows: list[list[str]] = []
    last = 0
    f_rows = formulas.iter_rows() if formulas is not None else None
    for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if i > MAX_SHEET_ROWS:
            errors.append(InputError(
                f"sheet has more than {MAX_SHEET_ROWS:,} rows (empty ones included)",
                path=where, expected="a submission of at most a few thousand rows; delete "
                "the empty rows below the data",
            ))  # fmt: skip
            return [], errors
        cells = [_cell_text(v) for v in values]
        if f_rows is not None:
            f_cells = next(f_rows, ())
            for v, fc in zip(values, f_cells, strict=False):
                if v is None and getattr(fc, "data_type", "") == "f":
                    errors.append(InputError(
                        f"cell {fc.coordinate} holds a formula with no computed value",
                        path=where, row=i,
                        expected="the workbook saved by Excel or LibreOffice after "
                        "calculation, or plain values",
                    ))  # fmt: skip
        if any(c.strip() for c in cells):
            last = i
        rows.append(cells)
    if declared is not None and last > declared:
        errors.append(InputError(
            f"the sheet declares {declared} rows but holds data down to row {last}",
            path=where, expected="the workbook re-saved by Excel or LibreOffice",
        ))  # fmt: skip
    return rows, errors


def records_from_xlsx(path: Path, *, fields: Sequence[str] = FIELDS) -> Records:
    """Read an Excel workbook: long sheets, or the wide template layout.

    The workbook is read completely or refused: every row present is read whatever the size
    the sheet declares (a declared size that disagrees with the content is an error), a
    formula without a computed value is an error naming its cell, a hidden sheet is an error,
    and limits bound the work (:data:`MAX_SHEET_ROWS`, :data:`MAX_UNPACKED_BYTES`).
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    problem, has_formulas = _xlsx_parts(path)
    if problem is not None:
        return _empty_records(), [problem], []
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        fb = load_workbook(path, read_only=True, data_only=False) if has_formulas else None
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        err = InputError(
            f"not a readable Excel workbook ({type(exc).__name__})",
            path=path,
            expected="an .xlsx file saved by Excel or LibreOffice",
        )
        return _empty_records(), [err], []
    read_errors: list[InputError] = []
    sheets: dict[str, list[list[str]]] = {}
    try:
        for ws in wb.worksheets:
            where = f"{path}:{ws.title}"
            if ws.sheet_state != "visible":
                read_errors.append(InputError(
                    f"sheet {ws.title!r} is hidden", path=where,
                    expected="every sheet visible (unhide it, or delete it if it is not part "
                    "of the submission)",
                ))  # fmt: skip
                continue
            rows, errs = _sheet_rows(ws, fb[ws.title] if fb is not None else None, where)
            sheets[ws.title] = rows
            read_errors += errs
    finally:
        wb.close()
        if fb is not None:
            fb.close()
    if read_errors:
        return _empty_records(), read_errors, []
    errors: list[InputError] = []
    warnings: list[SubmissionWarning] = []
    frames: list[pd.DataFrame] = []
    country: tuple[str, int] | None = None
    about = next((t for t in sheets if t.strip().lower() == "about"), None)
    if about is not None:
        for i, r in enumerate(sheets[about], start=1):
            if r and r[0].strip().lower() == "country":
                country = (r[1] if len(r) > 1 else "", i)
                break
    wide: list[str] = []
    for title, rows in sheets.items():
        where = f"{path}:{title}"
        name = title.strip().lower()
        lines = [i for i, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
        if name in INFO_SHEETS or not lines:
            continue
        header = [c.strip().lower() for c in rows[lines[0] - 1]]
        if "indicator" in header and "value" in header:
            body = [rows[i - 1] for i in lines[1:]]
            df, e, w = _long_records(
                rows[lines[0] - 1], body, lines[0], lines[1:], where, fields=fields
            )
        elif name in INDICATORS and tuple(fields) == FIELDS:
            wide.append(title)
            df, e, w = _wide_records(rows, lines[0], where, name, country, f"{path}:{about}")
        else:
            warnings.append(SubmissionWarning("sheet ignored (not an indicator name)", where))
            continue
        frames.append(df)
        errors += e
        warnings += w
    if wide and country is None:
        errors.append(
            InputError(
                "workbook has no 'about' sheet giving the country",
                path=path,
                expected="an 'about' sheet with 'country' in column A and the ISO3 code in B",
            )
        )
    if not frames and not errors:
        errors.append(
            InputError(
                "no data sheet found",
                path=path,
                expected="sheets named after indicators (" + ", ".join(INDICATORS) + ")",
            )
        )
    if errors:
        return _empty_records(), errors, warnings
    return pd.concat(frames, ignore_index=True), errors, warnings


def _wide_records(
    rows: list[list[str]],
    header_line: int,
    where: str,
    indicator: str,
    country: tuple[str, int] | None,
    about_where: str,
) -> Records:
    errors: list[InputError] = []
    warnings: list[SubmissionWarning] = []
    header = [c.strip() for c in rows[header_line - 1]]
    lower = [h.lower() for h in header]
    width = max(len(r) for r in rows)
    body = rows[header_line:]
    grid = np.array([r + [""] * (width - len(r)) for r in body], dtype=object).reshape(-1, width)
    grid = np.char.strip(grid.astype(str))
    header = header + [""] * (width - len(header))
    lower = lower + [""] * (width - len(lower))
    filled = grid != ""
    for f in ("product", "unit"):
        if f not in lower:
            errors.append(
                InputError(
                    f"missing column {f}",
                    path=where,
                    row=header_line,
                    expected="columns product, unit and one per year",
                )
            )
    year_cols: list[int] = []
    for j, h in enumerate(lower):
        if _YEAR.fullmatch(h):
            year_cols.append(j)
        elif h in {"product", "unit"} or h in IGNORED_COLUMNS or h.startswith("default"):
            continue
        elif h == "":
            hit = np.flatnonzero(filled[:, j])
            if hit.size:
                errors.append(
                    InputError(
                        "value in a column without a header",
                        path=where,
                        row=header_line + 1 + int(hit[0]),
                        column=f"#{j + 1}",
                        value=grid[hit[0], j],
                        expected="a year as the column header",
                    )
                )
        elif any(ch.isdigit() for ch in h):
            errors.append(
                InputError(
                    "column header is not a year",
                    path=where,
                    row=header_line,
                    column=header[j],
                    value=header[j],
                    expected="a 4-digit year such as 2021",
                )
            )
        else:
            warnings.append(SubmissionWarning("column ignored", where, header_line, header[j]))
    if errors:
        return _empty_records(), errors, warnings
    pj, uj = lower.index("product"), lower.index("unit")
    yc = np.asarray(year_cols, dtype=np.int64)
    r_idx, c_pos = np.nonzero(filled[:, yc]) if yc.size else (np.array([], int),) * 2
    years = np.asarray([header[j].split(".")[0] for j in yc], dtype=object)
    out = pd.DataFrame(
        {
            "country": country[0] if country else "",
            "year": years[c_pos],
            "product": grid[r_idx, pj],
            "indicator": indicator,
            "value": grid[r_idx, yc[c_pos]],
            "unit": grid[r_idx, uj],
        }
    )
    out["_where"] = where
    out["_row"] = header_line + 1 + r_idx.astype(np.int64)
    for f in FIELDS:
        out[f"_col_{f}"] = f
    out["_col_year"] = years[c_pos]
    out["_col_value"] = years[c_pos]
    out["_col_indicator"] = "(sheet name)"
    out["_where_country"] = about_where
    out["_row_country"] = country[1] if country else 0
    out["_col_country"] = "B"
    return out, errors, warnings


# --------------------------------------------------------------------------------------------
# writing templates


def _defaults_at_level(country: str, defaults: pd.DataFrame, by: str, codes: Codes) -> pd.DataFrame:
    need = {"year", "product", "indicator", "value_t"}
    missing = need - set(defaults.columns)
    if missing:
        raise InputError(
            f"defaults table lacks column(s) {', '.join(sorted(missing))}",
            expected="columns year, product, indicator, value_t (optional country)",
        )
    d = defaults
    if "country" in d:
        d = d.loc[d["country"].astype(str).str.upper() == country]
    d = d.assign(product=d["product"].astype(str), year=d["year"].astype(np.int64))
    if by == "eu6":
        unu = d["product"].isin(codes.unu_keys)
        d = d.assign(product=d["product"].where(~unu, d["product"].map(codes.unu_to_eu6)))
    return d.groupby(["indicator", "product", "year"])["value_t"].sum().reset_index()


def write_templates(
    country: str,
    out_dir: str | Path,
    defaults: pd.DataFrame,
    *,
    by: Literal["unu_key", "eu6"] = "unu_key",
    years: Sequence[int] | None = None,
    codes: Codes | None = None,
) -> list[Path]:
    """Write a country's submission templates (long CSV and wide Excel), pre-filled.

    Parameters
    ----------
    country
        ISO3 code.
    out_dir
        Folder to write into (created if needed).
    defaults
        The model's estimates: ``year, product, indicator, value_t`` (optional ``country``;
        rows of other countries are dropped). UNU-KEY defaults are summed to EU-6 categories
        when ``by="eu6"``.
    by
        Product detail: ``"unu_key"`` (54 UNU-KEYs) or ``"eu6"`` (7 categories).
    years
        Years to ask for; default the years present in ``defaults``.
    codes
        Code lists; default :meth:`Codes.from_catalog`.

    Returns
    -------
    list of pathlib.Path
        ``<ISO3>_submission_<by>.csv`` and ``<ISO3>_submission_<by>.xlsx``.
    """
    if by not in ("unu_key", "eu6"):
        raise InputError("unknown template level", value=by, expected="'unu_key' or 'eu6'")
    codes = Codes.from_catalog() if codes is None else codes
    country = country.strip().upper()
    if country not in codes.countries:
        raise InputError("unknown country code", column="country", value=country, expected="ISO3")
    d = _defaults_at_level(country, defaults, by, codes)
    yrs = sorted(int(y) for y in (years if years is not None else d["year"].unique()))
    if not yrs:
        raise InputError("no years to ask for", expected="defaults with years, or years=")
    if by == "unu_key":
        products = sorted(codes.unu_keys)
    else:  # the categories' own order, the same in every template (a set has none)
        products = [c for c in EU6_CATEGORIES if c in codes.eu6]
        products += sorted(codes.eu6 - set(EU6_CATEGORIES))
    grid = pd.MultiIndex.from_product(
        [list(INDICATORS), products, yrs], names=["indicator", "product", "year"]
    ).to_frame(index=False)
    grid = grid.merge(d, on=["indicator", "product", "year"], how="left")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{country}_submission_{by}"
    long = pd.DataFrame(
        {
            "country": country,
            "year": grid["year"],
            "product": grid["product"],
            "indicator": grid["indicator"],
            "value": "",
            "unit": "t",
            "default_t": grid["value_t"].round(6),
            "description": grid["product"].map(codes.descriptions).fillna(""),
        }
    )
    csv_path = out / f"{stem}.csv"
    long.to_csv(csv_path, index=False)
    xlsx_path = out / f"{stem}.xlsx"
    _write_wide_xlsx(xlsx_path, country, by, grid, products, yrs, codes)
    logger.debug("wrote %s and %s", csv_path, xlsx_path)
    return [csv_path, xlsx_path]


def _write_wide_xlsx(
    path: Path,
    country: str,
    by: str,
    grid: pd.DataFrame,
    products: list[str],
    years: list[int],
    codes: Codes,
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    to_fill = PatternFill("solid", fgColor="FFF2CC")
    grey = PatternFill("solid", fgColor="D9D9D9")
    wb = Workbook()
    about = wb.active
    about.title = "about"
    about.append(["field", "value"])
    about.append(["country", country])
    about.append(["product_level", by])
    about.append(["created_utc", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")])
    notes = [
        "Fill the yellow year columns of each indicator sheet; leave a cell empty if unknown.",
        "Units: t (tonnes), kg, or pieces (UNU-KEY products only; converted with unit weights).",
        "Grey 'default <year>' columns are the model's estimates and are not read back.",
        "Values use '.' as decimal separator; no thousands separators.",
    ]
    for n in notes:
        about.append(["note", n])
    n_y = len(years)
    for ind in INDICATORS:
        ws = wb.create_sheet(ind)
        header = ["product", "description", "unit", *years, "", *(f"default {y}" for y in years)]
        ws.append(header)
        vals = (
            grid.loc[grid["indicator"] == ind]
            .pivot(index="product", columns="year", values="value_t")
            .reindex(index=products, columns=years)
        )
        arr = vals.to_numpy()
        for i, p in enumerate(products):
            dv = [None if np.isnan(x) else round(float(x), 6) for x in arr[i]]
            ws.append([p, codes.descriptions.get(p, ""), "t", *([None] * n_y), None, *dv])
        for j in range(1, 4 + n_y):
            ws.cell(row=1, column=j).font = Font(bold=True)
        for j in range(4, 4 + n_y):
            ws.cell(row=1, column=j).fill = to_fill
        for j in range(5 + n_y, 5 + 2 * n_y):
            ws.cell(row=1, column=j).fill = grey
            for i in range(2, len(products) + 2):
                ws.cell(row=i, column=j).font = Font(color="808080", italic=True)
        units = DataValidation(type="list", formula1='"t,kg,pieces"', allow_blank=False)
        ws.add_data_validation(units)
        units.add(f"C2:C{len(products) + 1}")
        ws.freeze_panes = "D2"
    wb.save(path)
