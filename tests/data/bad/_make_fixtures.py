"""Rebuild the submission fixtures in tests/data/bad and tests/data/good.

Run from the repository root: ``python tests/data/bad/_make_fixtures.py``. Each bad file has a
row in ``index.csv``: the file, a fragment its error message must contain, the number of
errors expected and, where one error is expected, the row and column it must name.

Products and countries used here are in ``tests/data/good/catalog/``, a subset of the UNU-KEY
table (Statistics Netherlands / UNU WEEE Calculation Tool key tables, average unit weights for
2014) and ISO 3166-1 alpha-3 codes.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

BAD = Path(__file__).resolve().parent
GOOD = BAD.parent / "good"
HEAD = "country,year,product,indicator,value,unit\n"

# name -> (content, fragment, n_errors, row, column)
CSV_CASES: dict[str, tuple[str, str, int, int | None, str | None]] = {
    "unknown_country.csv": (
        HEAD + "KEN,2020,0306,pom,10,t\nKNE,2021,0306,pom,11,t\n",
        "unknown country code",
        1,
        3,
        "country",
    ),
    "missing_country.csv": (HEAD + ",2020,0306,pom,10,t\n", "country is missing", 1, 2, "country"),
    "two_countries.csv": (
        HEAD + "KEN,2020,0306,pom,10,t\nKEN,2021,0306,pom,10,t\nGHA,2021,0306,pom,10,t\n",
        "a submission covers one country",
        1,
        4,
        "country",
    ),
    "year_text.csv": (HEAD + "KEN,twenty,0306,pom,10,t\n", "4-digit whole number", 1, 2, "year"),
    "year_decimal.csv": (HEAD + "KEN,2019.5,0306,pom,10,t\n", "4-digit whole number", 1, 2, "year"),
    "year_too_early.csv": (HEAD + "KEN,1950,0306,pom,10,t\n", "year out of range", 1, 2, "year"),
    "year_future.csv": (HEAD + "KEN,2999,0306,pom,10,t\n", "year out of range", 1, 2, "year"),
    "unknown_product.csv": (
        HEAD + "KEN,2020,0399,pom,10,t\n",
        "unknown product code",
        1,
        2,
        "product",
    ),
    "missing_product.csv": (HEAD + "KEN,2020,,pom,10,t\n", "product is missing", 1, 2, "product"),
    "mixed_levels.csv": (
        HEAD + "KEN,2020,0306,pom,10,t\nKEN,2020,0302,pom,10,t\nKEN,2020,6,pom,30,t\n",
        "mixes UNU-KEYs and EU-6",
        1,
        4,
        "product",
    ),
    "unknown_indicator.csv": (
        HEAD + "KEN,2020,0306,pmo,10,t\n",
        "did you mean 'pom'",
        1,
        2,
        "indicator",
    ),
    "value_text.csv": (HEAD + "KEN,2020,0306,pom,n/a,t\n", "value is not a number", 1, 2, "value"),
    "value_nan.csv": (HEAD + "KEN,2020,0306,pom,nan,t\n", "value is not a number", 1, 2, "value"),
    "value_negative.csv": (HEAD + "KEN,2020,0306,pom,-3,t\n", "value is negative", 1, 2, "value"),
    "value_decimal_comma.csv": (
        HEAD + 'KEN,2020,0306,pom,"12,5",t\n',
        "value uses a comma",
        1,
        2,
        "value",
    ),
    "value_thousands.csv": (
        HEAD + 'KEN,2020,0306,pom,"1,234.5",t\n',
        "value uses a comma",
        1,
        2,
        "value",
    ),
    "value_inf.csv": (HEAD + "KEN,2020,0306,pom,inf,t\n", "value is not finite", 1, 2, "value"),
    "unit_unknown.csv": (HEAD + "KEN,2020,0306,pom,10,lbs\n", "unknown unit", 1, 2, "unit"),
    "unit_missing.csv": (HEAD + "KEN,2020,0306,pom,10,\n", "unit is missing", 1, 2, "unit"),
    "pieces_eu6.csv": (
        HEAD + "KEN,2020,6,pom,1000,pieces\n",
        "pieces need a UNU-KEY",
        1,
        2,
        "unit",
    ),
    "duplicate_rows.csv": (
        HEAD + "KEN,2020,0306,pom,10,t\nKEN,2021,0306,pom,10,t\nKEN,2020,0306,pom,12,t\n",
        "duplicate of an earlier row",
        1,
        4,
        "indicator",
    ),
    "missing_column.csv": (
        "country,year,product,indicator,value\nKEN,2020,0306,pom,10\n",
        "missing column(s) unit",
        1,
        1,
        None,
    ),
    "duplicate_header.csv": (
        "country,year,product,indicator,value,unit,value\nKEN,2020,0306,pom,10,t,11\n",
        "duplicate column header",
        1,
        1,
        "value",
    ),
    "empty.csv": ("", "file is empty", 1, None, None),
    "header_only.csv": (HEAD, "no data rows", 1, None, None),
    "all_values_blank.csv": (
        HEAD + "KEN,2020,0306,pom,,t\nKEN,2021,0306,pom,,t\n",
        "no values reported",
        1,
        None,
        None,
    ),
    "extra_cells.csv": (HEAD + "KEN,2020,0306,pom,1,234,t\n", "row has 7 cells", 1, 2, None),
    "many_errors.csv": (
        HEAD + "KEN,2020,0306,pom,10,t\nXXX,20x0,9999,pmo,-1,lbs\n",
        "6 error(s)",
        6,
        None,
        None,
    ),
    "semicolon_decimal_comma.csv": (
        "country;year;product;indicator;value;unit\nKEN;2020;0306;pom;12,5;t\n",
        "value uses a comma",
        1,
        2,
        "value",
    ),
}


def _xlsx_wide(
    path: Path,
    *,
    about: bool = True,
    country: str = "KEN",
    header: list[object] | None = None,
    rows: list[list[object]] | None = None,
    sheet: str = "pom",
) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "about"
    if about:
        ws.append(["field", "value"])
        ws.append(["country", country])
    else:
        ws.title = "notes"
        ws.append(["filled by", "ministry"])
    data = wb.create_sheet(sheet)
    data.append(header or ["product", "description", "unit", 2020, 2021])
    for r in rows or [["0306", "Mobile phones", "t", 10.0, 12.0]]:
        data.append(r)
    wb.save(path)


def main() -> None:
    index = []
    for name, (text, frag, n, row, col) in CSV_CASES.items():
        (BAD / name).write_text(text, encoding="utf-8", newline="")
        index.append((name, frag, n, row, col))
    (BAD / "latin1.csv").write_bytes(
        (HEAD + "KEN,2020,0306,pom,10,t\n").encode()
        + "KEN,2021,0306,pom,10,t,Côte\n".encode("latin-1")
    )
    index.append(("latin1.csv", "not UTF-8", 1, 3, None))
    (BAD / "binary.csv").write_bytes(HEAD.encode() + b"KEN,2020,0306,pom,\x00\x01,t\n")
    index.append(("binary.csv", "NUL bytes", 1, None, None))
    (BAD / "wrong_extension.txt").write_text(HEAD + "KEN,2020,0306,pom,10,t\n")
    index.append(("wrong_extension.txt", "unsupported file type", 1, None, None))
    (BAD / "old_excel.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    index.append(("old_excel.xls", "unsupported file type", 1, None, None))
    (BAD / "corrupt.xlsx").write_text("this is not a zip file\n")
    index.append(("corrupt.xlsx", "not a readable Excel workbook", 1, None, None))

    _xlsx_wide(BAD / "wide_no_about.xlsx", about=False)
    index.append(("wide_no_about.xlsx", "no 'about' sheet", 1, None, None))
    _xlsx_wide(
        BAD / "wide_bad_year_header.xlsx", header=["product", "description", "unit", 2020, "2021a"]
    )
    index.append(("wide_bad_year_header.xlsx", "column header is not a year", 1, 1, "2021a"))
    _xlsx_wide(
        BAD / "wide_value_text.xlsx", rows=[["0306", "Mobile phones", "t", 10.0, "about 12"]]
    )
    index.append(("wide_value_text.xlsx", "value is not a number", 1, 2, "2021"))
    _xlsx_wide(BAD / "wide_value_bool.xlsx", rows=[["0306", "Mobile phones", "t", True, 1.0]])
    index.append(("wide_value_bool.xlsx", "value is not a number", 1, 2, "2020"))
    _xlsx_wide(BAD / "wide_unknown_country.xlsx", country="Kenya")
    index.append(("wide_unknown_country.xlsx", "unknown country code", 1, 2, "B"))
    _xlsx_wide(
        BAD / "wide_missing_unit.xlsx",
        header=["product", "description", 2020, 2021],
        rows=[["0306", "Mobile phones", 10.0, 12.0]],
    )
    index.append(("wide_missing_unit.xlsx", "missing column unit", 1, 1, None))
    _xlsx_wide(
        BAD / "wide_value_no_header.xlsx",
        rows=[["0306", "Mobile phones", "t", 10.0, 12.0, None, 99.0]],
    )
    index.append(("wide_value_no_header.xlsx", "value in a column without a header", 1, 2, "#7"))
    _xlsx_wide(
        BAD / "wide_negative_pieces.xlsx", rows=[["0306", "Mobile phones", "pieces", -5.0, 12.0]]
    )
    index.append(("wide_negative_pieces.xlsx", "value is negative", 1, 2, "2020"))
    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["hello", "world"])
    wb.save(BAD / "xlsx_no_data_sheet.xlsx")
    index.append(("xlsx_no_data_sheet.xlsx", "no data sheet found", 1, None, None))
    wb = Workbook()
    wb.active.title = "data"
    wb.active.append(["country", "year", "product", "indicator", "value", "unit"])
    wb.active.append(["KEN", 2020, "0306", "pom", 10.0, "t"])
    wb.active.append(["KEN", 2020, "0398", "stock", 10.0, "t"])
    wb.save(BAD / "long_xlsx_bad_product.xlsx")
    index.append(("long_xlsx_bad_product.xlsx", "unknown product code", 1, 3, "product"))

    with open(BAD / "index.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "fragment", "n_errors", "row", "column"])
        for r in index:
            w.writerow(["" if v is None else v for v in r])

    GOOD.mkdir(exist_ok=True)
    (GOOD / "KEN_unu_long.csv").write_text(
        HEAD
        + "KEN,2019,0306,pom,412.5,t\n"
        + "KEN,2020,0306,pom,455000,kg\n"
        + "KEN,2021,0306,pom,5000000,pieces\n"
        + "KEN,2021,0108,pom,61.2,t\n"
        + "KEN,2021,0108,collected_formal,3.1,t\n"
        + "KEN,2021,0306,exported_used,,t\n"
        + "KEN,2021,306,stock,2100,t\n",
        encoding="utf-8",
        newline="",
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "about"
    ws.append(["field", "value"])
    ws.append(["country", "GHA"])
    ws.append(["product_level", "eu6"])
    for ind, rows in {
        "pom": [
            ["1", "Temperature exchange equipment", "t", 1200.0, 1300.0, None],
            ["6", "Small IT", "kg", 450000.0, None, 500000.0],
        ],
        "collected_formal": [["6", "Small IT", "t", 12.0, 14.5, 20.0]],
    }.items():
        s = wb.create_sheet(ind)
        s.append(["product", "description", "unit", 2019, 2020, 2021, None, "default 2019"])
        for r in rows:
            s.append([*r, None, 1.0])
    wb.save(GOOD / "GHA_eu6_wide.xlsx")


if __name__ == "__main__":
    main()
