"""The app's floor: numbers with units, names people search, safe uploads, downloads with
their context."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.app import format as fmt
from ewaste_tracker.app.names import country_names, fold
from ewaste_tracker.app.uploads import KINDS, safe_name, save_upload
from ewaste_tracker.app.views import data as dviews
from ewaste_tracker.errors import InputError, InputErrors

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (10118710986, "USD", "10.1 bn USD"),
        (59815446.67, "t", "59.8 Mt"),
        (0.00034, "t", "340 g"),
        (1.234e6, "t CO2e", "1.23 Mt CO2e"),
        (56566720, "inh", "56.6 M inh"),
        (0.2235, "fraction", "22.4 %"),
        (7.83, "kg/inh", "7.83 kg/inh"),
        (-12.5, "pp", "-12.5 pp"),
        (2500.0, "GWh", "2.5 TWh"),
        (float("nan"), "t", "n/a"),
    ],
)
def test_numbers_are_written_with_units(value, unit, text) -> None:
    assert fmt.quantity(value, unit) == text


@given(st.floats(1e-6, 1e15))
def test_written_numbers_stay_within_half_a_percent(value) -> None:
    text = fmt.quantity(value, "USD")
    number, *rest = text.split(" ")
    scale = {"T": 1e12, "bn": 1e9, "M": 1e6, "k": 1e3}.get(rest[0], 1.0) if len(rest) > 1 else 1
    assert float(number.replace(",", "")) * scale == pytest.approx(value, rel=5e-3)


def test_tables_keep_years_and_write_each_row_in_its_unit() -> None:
    frame = pd.DataFrame(
        {
            "region": ["KEN", "KEN"],
            "year": [2022, 2022],
            "indicator": ["generated_t", "lost_usd"],
            "value": [146110.5, 1.48e8],
            "unit": ["t", "USD"],
            "lost_usd": [1.0e10, 2.0],
        }
    )
    out = fmt.table(frame, labels={"value": "Value"})
    assert out["year"].tolist() == ["2022", "2022"]
    assert out["Value"].tolist() == ["146 kt", "148 M USD"]
    assert out["lost_usd"].tolist() == ["10 bn USD", "2 USD"]
    assert "unit" not in out.columns


def test_markdown_in_names_is_shown_not_followed() -> None:
    text = fmt.markdown_text("![x](http://example.org/x.png) **b** $x$ :red[y]")
    for raw in ("![", "](", "**", ":red["):
        assert raw not in text
    assert text.replace("\\", "") == "![x](http://example.org/x.png) **b** $x$ :red[y]"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("South Sudan", "SSD"),
        ("ssd", "SSD"),
        ("S. Sudan", "SSD"),
        ("south korea", "KOR"),
        ("North Korea", "PRK"),
        ("ivory coast", "CIV"),
        ("cote d'ivoire", "CIV"),
        ("UK", "GBR"),
        ("Turkey", "TUR"),
        ("türkiye", "TUR"),
        ("Viet Nam", "VNM"),
        ("vietnam", "VNM"),
        ("DR Congo", "COD"),
        ("Czech Republic", "CZE"),
    ],
)
def test_countries_are_found_by_code_official_and_common_names(query, code) -> None:
    names = country_names()
    assert names.search(query)[0] == code


def test_official_names_replace_map_abbreviations() -> None:
    names = country_names()
    assert names.name("SSD") == "South Sudan"
    assert names.name("PRK") == "Democratic People's Republic of Korea"
    assert names.name("WLD") == "World"
    assert "S. Sudan" in names.label("SSD") and names.label("SSD").startswith("South Sudan (SSD)")
    assert fold("Côte d'Ivoire") == "cote d ivoire"
    assert names.search("") == [] and names.search("zzzz") == []


def test_uploads_of_the_wrong_kind_size_or_content_are_refused(tmp_path: Path) -> None:
    good = (DATA / "good" / "KEN_unu_long.csv").read_bytes()
    path = save_upload("submission", "../../KEN data.csv", good, folder=tmp_path)
    assert path.name == "KEN_data.csv" and path.read_bytes() == good
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    cases = [
        ("submission", "x.exe", good, "ending in"),
        ("submission", "x.csv", b"", "empty"),
        ("submission", "x.xlsx", good, "does not match"),
        ("submission", "x.csv", b"\xff\xfe" + b"\x00" * 10, "UTF-8"),
        ("boundaries", "x.gpkg", b"not sqlite", "does not match"),
        ("network", "x.osm.pbf", b"<osm></osm>", "text, not a PBF"),
        ("submission", "x.csv", b"a" * (KINDS["submission"].max_bytes + 1), "MB"),
    ]
    for kind, name, data, message in cases:
        with pytest.raises(InputError, match=message):
            save_upload(kind, name, data, folder=tmp_path)
    assert safe_name("<script>.csv", ".csv") == "script.csv"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_zipped_shapefiles_unpack_only_when_every_member_is_safe(tmp_path: Path) -> None:
    regions = gpd.read_file(DATA / "rwanda_provinces.gpkg")
    shp = tmp_path / "src" / "rw.shp"
    shp.parent.mkdir()
    regions.to_file(shp)
    parts = {p.name: p.read_bytes() for p in shp.parent.iterdir()}
    path = save_upload("boundaries", "rw.zip", _zip(parts), folder=tmp_path)
    assert path.name == "boundaries.shp"
    assert len(pyogrio.read_dataframe(path)) == len(regions)
    bad = [
        ({"../evil.shp": b"x", **parts}, "unsafe path"),
        ({"/abs.shp": b"x"}, "unsafe path"),
        ({**parts, "run.py": b"print(1)"}, "not part of a Shapefile"),
        ({f"{i}.dbf": b"x" for i in range(20)}, "holds 20 files"),
        ({"rw.dbf": parts["rw.dbf"]}, "no complete Shapefile"),
    ]
    for members, message in bad:
        with pytest.raises(InputError, match=message):
            save_upload("boundaries", "b.zip", _zip(members), folder=tmp_path)
    bomb = _zip({"big.dbf": b"\0" * (KINDS["boundaries"].max_bytes + 10)})
    with pytest.raises(InputError, match="unpacks to"):
        save_upload("boundaries", "bomb.zip", bomb, folder=tmp_path)
    assert not (tmp_path.parent / "evil.shp").exists()


def test_every_submission_error_becomes_a_row() -> None:
    errors = InputErrors(
        [
            InputError(
                "bad value",
                path="/tmp/x/KEN.csv",
                row=3,
                column="value",
                value="abc",
                expected="a number",
            ),
            InputError("unknown country", path="/tmp/x/KEN.csv", row=4),
        ]
    )
    table = dviews.errors_table(errors)
    assert list(table.columns) == list(dviews.ERROR_COLUMNS)
    assert table["file"].tolist() == ["KEN.csv", "KEN.csv"]  # no server paths shown
    assert table["row"].tolist() == ["3", "4"] and table["value"].tolist() == ["abc", ""]


def test_downloads_keep_year_elements_units_and_sources(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "region": ["KEN", "RWA"],
            "year": [2022, 2022],
            "element": ["Au", "Au"],
            "value": [1.5, 2.5],
            "unit": ["t", "t"],
            "source": ["=HYPERLINK()", "s"],
        }
    )
    about = dviews.about_table(
        what="lost",
        years=[2022],
        elements=["Au"],
        units={"value": "t"},
        sources=["data/prices.csv"],
    )
    csv = pd.read_csv(io.BytesIO(dviews.to_csv_bytes(frame)))
    assert {"year", "element", "unit", "source"} <= set(csv.columns)
    xl = pd.read_excel(io.BytesIO(dviews.to_excel_bytes(frame, about)), sheet_name=None)
    assert set(xl) == {"data", "about"}
    assert xl["data"]["source"].iloc[0] == "'=HYPERLINK()"  # never a live formula
    facts = dict(zip(xl["about"]["key"], xl["about"]["value"], strict=True))
    assert facts["years"] == "2022" and facts["elements"] == "Au" and facts["source"]
    outlines = gpd.GeoDataFrame(
        {"region": ["KEN"]}, geometry=[shapely.box(33, -5, 42, 5)], crs=4326
    )
    gpkg = tmp_path / "out.gpkg"
    gpkg.write_bytes(dviews.to_geopackage_bytes(frame, about, outlines=outlines))
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"data", "about"} <= layers
    data = gpd.read_file(gpkg, layer="data")
    assert data.geometry.notna().tolist() == [True, False] and data["year"].tolist() == [2022] * 2
    with sqlite3.connect(gpkg) as con:
        assert con.execute("select count(*) from about").fetchone()[0] == len(about)
    assert np.isfinite(data["value"]).all()
