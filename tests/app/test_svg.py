"""The inline SVG charts: round axes, escaped labels, accessible names, bands that add up."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.app.figures.svg import (
    Series,
    bar_chart,
    line_chart,
    nice_ticks,
    sankey_chart,
    stacked_chart,
)

NS = "{http://www.w3.org/2000/svg}"


@settings(max_examples=60)
@given(st.floats(0, 1e12), st.floats(1e-6, 1e12), st.floats(1e-3, 1e3))
def test_ticks_cover_the_range_in_round_steps(lo: float, span: float, rel: float) -> None:
    span = max(span, lo * rel)  # an axis spans at least a thousandth of its values
    ticks = nice_ticks(lo, lo + span)
    assert ticks[0] <= lo * (1 + 1e-9) and ticks[-1] >= (lo + span) * (1 - 1e-9)
    steps = np.diff(ticks)
    assert len(ticks) <= 12 and np.allclose(steps, steps[0], rtol=1e-6)
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))


def test_every_chart_is_well_formed_named_and_escapes_labels() -> None:
    evil = '<script>alert("x")</script> & Co'
    charts = [
        line_chart(np.arange(2000, 2005), [Series(evil, "#000", np.arange(5.0))],
                   title=evil, desc="words", y_title="t"),
        bar_chart([evil, "b"], [Series("s", "#111", np.array([1.0, 0.0]))], title="bars",
                  desc="d", value_title="t", log=True),
        stacked_chart([evil], [Series("x", "#222", np.array([100.0]), pattern=True)],
                      title="stack", desc="d", value_title="%"),
        sankey_chart([evil, "b", "c"], ["#333"] * 3, np.array([0, 1, 2]),
                     (np.array([0, 1]), np.array([1, 2]), np.array([5.0, 3.0])),
                     title="flows", desc="d"),
    ]  # fmt: skip
    for svg in charts:
        assert "<script" not in svg
        root = ET.fromstring(svg)  # well-formed XML
        assert root.get("role") == "img"
        ids = root.get("aria-labelledby", "").split()
        named = {el.get("id"): el.text for el in root if el.get("id")}
        assert len(ids) == 2 and all(named[i] for i in ids)  # a title and a description


def test_sankey_band_widths_are_proportional_and_nodes_hold_their_flow() -> None:
    svg = sankey_chart(["a", "b", "c", "d"], ["#000"] * 4, np.array([0, 1, 2, 2]),
                       (np.array([0, 1, 1]), np.array([1, 2, 3]), np.array([10.0, 6.0, 4.0])),
                       title="t", desc="d", height=400)  # fmt: skip
    bands = re.findall(r'stroke-width="([0-9.]+)"><title>(\w) → (\w)', svg)
    width = {a + b: float(w) for w, a, b in bands}
    assert width["bc"] / width["bd"] == pytest.approx(6 / 4, rel=0.02)
    assert width["ab"] / width["bd"] == pytest.approx(10 / 4, rel=0.02)
    nodes = re.findall(r'height="([0-9.]+)" fill="[^"]*"><title>(\w):', svg)
    heights = {name: float(h) for h, name in nodes}
    assert heights["a"] == pytest.approx(heights["b"], rel=0.02)  # 10 t in, 10 t out
    assert heights["c"] + heights["d"] == pytest.approx(heights["b"], rel=0.02)
