"""Legend numbers read like an analyst writes them; legend boxes are escaped and compact."""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewaste_tracker.maps.legend import (
    Legend,
    distinct_edges,
    format_quantity,
    format_range,
    quantile_classes,
)

MASS = {"Gt": 1e9, "Mt": 1e6, "kt": 1e3, "t": 1.0, "kg": 1e-3, "g": 1e-6}
MONEY = {"": 1.0, "k": 1e3, "M": 1e6, "bn": 1e9, "T": 1e12}


def parse(text: str, unit: str) -> float:
    """Read back what :func:`format_quantity` wrote, in ``unit``."""
    number, _, rest = text.partition(" ")
    value = float(number.replace(",", ""))
    if unit == "t":
        return value * MASS[rest]
    if unit == "USD":
        prefix = rest.removesuffix("USD").strip()
        return value * MONEY[prefix]
    raise AssertionError(unit)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1_355_000.0, "USD", "1.36 M USD"),
        (39_512.0, "USD", "39.5 k USD"),
        (1.22e8, "USD", "122 M USD"),
        (2.5e9, "USD", "2.5 bn USD"),
        (44.04, "USD", "44 USD"),
        (6.4e-6, "t", "6.4 g"),
        (6.387e-06, "t", "6.39 g"),
        (0.0008099, "t", "810 g"),
        (0.5, "t", "500 kg"),
        (24.39, "t", "24.4 t"),
        (3838.0, "t", "3.84 kt"),
        (999.7, "t", "1 kt"),  # rounding to 3 digits steps up a unit
        (1.2e6, "t", "1.2 Mt"),
        (250.0, "t/yr", "250 t/yr"),
        (12_500.0, "t/yr", "12.5 kt/yr"),
        (0.008199, "fraction", "0.82 %"),
        (0.5, "share", "50 %"),
        (45.26, "%", "45.3 %"),
        (1.5423, "kg/inh", "1.54 kg/inh"),
        (1_234_567.0, "", "1,230,000"),
        (0.0, "t", "0 t"),
        (-1500.0, "t", "-1.5 kt"),
        (float("nan"), "t", "n/a"),
        (None, "USD", "n/a"),
    ],
)
def test_numbers_are_written_in_human_units(value: float, unit: str, text: str) -> None:
    assert format_quantity(value, unit) == text


@given(
    st.floats(1e-9, 1e14, allow_subnormal=False),
    st.sampled_from(["t", "USD"]),
    st.booleans(),
)
def test_formatted_number_reads_back_within_half_a_percent(
    value: float, unit: str, negative: bool
) -> None:
    value = -value if negative else value
    text = format_quantity(value, unit)
    assert "e" not in text.split(" ")[0], text  # never scientific notation
    assert math.isclose(parse(text, unit), value, rel_tol=0.005), (value, text)


def test_a_range_writes_its_unit_once_when_both_ends_share_it() -> None:
    assert format_range(3.631, 6.511, "t") == "3.63 – 6.51 t"
    assert format_range(24.39, 3838.0, "t") == "24.4 t – 3.84 kt"
    assert format_range(0.0077, 0.0082, "fraction") == "0.77 – 0.82 %"
    assert format_range(44.0, 39_510.0, "USD") == "44 USD – 39.5 k USD"


def test_edges_written_alike_are_merged_and_every_value_keeps_a_class() -> None:
    # a collection rate that differs only in the fifth digit gave "0.82 – 0.82 %" rows
    values = np.array([0.007706, 0.0081990, 0.0081991, 0.0081992, 0.0081994, np.nan])
    edges, cls = quantile_classes(values, unit="fraction")
    labels = [format_range(a, b, "fraction") for a, b in itertools.pairwise(edges)]
    assert len(set(labels)) == len(labels) == edges.size - 1
    assert edges[0] == values[0] and edges[-1] == np.nanmax(values)
    assert cls[-1] == -1 and (cls[:-1] >= 0).all() and (cls[:-1] < edges.size - 1).all()
    assert distinct_edges(np.array([1.0, 1.0001]), "t").size == 2


@given(st.lists(st.floats(0, 1e7, allow_subnormal=False), min_size=1, max_size=40))
def test_classes_cover_every_value_in_order(values: list[float]) -> None:
    arr = np.asarray(values)
    edges, cls = quantile_classes(arr, unit="t")
    assert (cls >= 0).all() and (cls <= max(edges.size - 2, 0)).all()
    assert np.all(np.diff(edges) >= 0)
    order = np.argsort(arr, kind="stable")
    assert np.all(np.diff(cls[order]) >= 0)  # larger values never fall in a lower class


def test_legend_is_compact_escaped_and_bound_to_its_layer() -> None:
    import folium

    m = folium.Map(tiles=None)
    layer = folium.FeatureGroup(name="<b>sites</b>", show=False).add_to(m)
    legend = Legend(
        "<script>alert(1)</script>",
        [("#fff", "<img src=x onerror=alert(1)>")],
        note=["x" * 300],
        layer=layer,
    )
    legend.add_to(m)
    page = m.get_root().render()
    body = legend.body
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "max-width:260px" in page and "font:11px" in page
    assert "overlayadd" in page and "overlayremove" in page
    assert re.search(rf"var layer = {layer.get_name()};", page)
    assert "x" * 300 in body and "x" * 108 + "…<" in body  # cut in the box, whole on hover
