"""Rebuild the hostile-input corpus in tests/data/hostile.

Run from the repository root: ``python tests/data/hostile/_make_hostile.py``. Each case is a row
of ``index.csv``: the case name, the command (``{h}`` is this folder, ``{out}`` a fresh output
path, ``{tmp}`` the test's temporary folder), the exit code expected, and a fragment the one-line
error must contain. ``tests/test_hostile.py`` runs every row and checks that nothing is written
to ``{out}`` when the exit code is not 0 and that no traceback is printed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEAD = "country,year,product,indicator,value,unit\n"


def _write(name: str, text: str) -> None:
    (HERE / name).write_text(text, encoding="utf-8")


def _long_book(rows: list[list[object]], **kw: object) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append(["country", "year", "product", "indicator", "value", "unit"])
    for r in rows:
        ws.append(r)
    return wb


def _stale_dimension() -> None:
    """Rows beyond a stale declared sheet size (``<dimension ref="A1:F3"/>``), one of them −7."""
    rows = [
        ["KEN", 2019, "0306", "pom", 10, "t"],
        ["KEN", 2020, "0306", "pom", 11, "t"],
        ["KEN", 2021, "0306", "pom", -7, "t"],
        ["KEN", 2022, "0306", "pom", 12, "t"],
    ]
    path = HERE / "stale_dimension.xlsx"
    _long_book(rows).save(path)
    _rewrite_sheet(
        path, lambda xml: xml.replace('<dimension ref="A1:F5" />', '<dimension ref="A1:F3" />')
    )


def _rewrite_sheet(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                new = edit(data.decode("utf-8"))
                assert new != data.decode("utf-8"), "edit did not apply"
                data = new.encode("utf-8")
            dst.writestr(item, data)
    tmp.replace(path)


def _formula_without_value() -> None:
    """A value cell holding a formula that was never calculated (no cached value)."""
    rows = [["KEN", 2019, "0306", "pom", 10, "t"], ["KEN", 2020, "0306", "pom", "=E2*2", "t"]]
    _long_book(rows).save(HERE / "formula_no_cached_value.xlsx")


def _hidden_sheet() -> None:
    """A hidden sheet carrying data besides the visible one."""
    wb = _long_book([["KEN", 2019, "0306", "pom", 10, "t"]])
    ws = wb.create_sheet("old")
    ws.append(["country", "year", "product", "indicator", "value", "unit"])
    ws.append(["KEN", 2019, "0306", "pom", 99999, "t"])
    ws.sheet_state = "hidden"
    wb.save(HERE / "hidden_sheet.xlsx")


def million_empty_rows(path: Path, rows: int = 1_000_000) -> Path:
    """A small workbook whose sheet runs to a million empty rows (built by the test, not
    committed: 2 MB)."""
    _long_book([["KEN", 2019, "0306", "pom", 10, "t"]]).save(path)
    filler = "".join(f'<row r="{i}" s="0" customFormat="1"/>' for i in range(3, rows + 1))
    _rewrite_sheet(
        path,
        lambda xml: xml.replace("</sheetData>", filler + "</sheetData>").replace(
            '<dimension ref="A1:F2" />', f'<dimension ref="A1:F{rows}" />'
        ),
    )
    return path


CSV = {
    "arabic_indic_year.csv": HEAD + "KEN,2020,0306,pom,10,t\nKEN,٢٠٢٠,0306,pom,99,t\n",
    "fullwidth_year.csv": HEAD + "KEN,2020,0306,pom,10,t\nKEN,２０２０,0306,pom,99,t\n",
    "value_1e300.csv": HEAD + "KEN,2020,0306,pom,1e300,t\n",
    "jump_741x.csv": HEAD + "KEN,2019,0306,pom,10,t\nKEN,2020,0306,pom,7410,t\n",
    "pom_1e308.csv": "region,product,year,pom_t\nKEN,0306,2020,1.7e308\nKEN,0306,2021,1.7e308\n",
    "pom_ok.csv": "region,product,year,pom_t\nKEN,0306,2020,100\nKEN,0306,2021,120\n",
    "pom_half_year.csv": "region,product,year,pom_t\nKEN,0306,2022.5,100\n",
    "lifetime_tiny_scale.csv": "product,distribution,shape,scale\n0306,weibull,1.5,1e-300\n",
    "lifetime_ok.csv": "product,distribution,shape,scale\n0306,weibull,1.5,6\n",
    "demand_empty.csv": "demand_id,weight,lon,lat\n",
    "demand_far.csv": "demand_id,weight,lon,lat\nnear,5,24.94,60.17\nfar,5,-120.0,-45.0\n",
    "candidates_few.csv": "candidate_id,lon,lat,cap\nc1,24.94,60.17,1\nc2,24.95,60.171,1\n",
    "demand_two.csv": "demand_id,weight,lon,lat\na,5,24.94,60.17\nb,5,24.95,60.171\n",
}
NO_EDGES_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="60.17" lon="24.94"/>
  <node id="2" lat="60.171" lon="24.95"/>
</osm>
"""


def main() -> None:
    for name, text in CSV.items():
        _write(name, text)
    _write("no_edges.osm", NO_EDGES_OSM)
    run_dir = HERE / "run_duplicate_tc"
    run_dir.mkdir(exist_ok=True)
    (run_dir / "pom.csv").write_text(CSV["pom_ok.csv"], encoding="utf-8")
    (run_dir / "transfer_coefficients.csv").write_text(
        "region,product,year,from_stage,to_stage,share\n"
        ",,,generated,collection_formal,0.5\n,,,generated,collection_formal,0.5\n",
        encoding="utf-8",
    )
    _stale_dimension()
    _formula_without_value()
    _hidden_sheet()


if __name__ == "__main__":
    main()
