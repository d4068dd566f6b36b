"""Monte Carlo bands of the footprint and the element table: ordered, consistent in every
draw, seed-stable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.flows.footprint import GROUPS, INDICATORS
from ewaste_tracker.flows.minerals import DOMESTIC_ROUTES, ROUTES
from ewaste_tracker.model.folder import read_inputs_folder
from ewaste_tracker.model.run import compute_run, prepare_run
from ewaste_tracker.uncertainty.bands import run_bands
from ewaste_tracker.uncertainty.draws import Spreads, draw, draw_space, tile_batch
from ewaste_tracker.uncertainty.footprint import (
    batch_footprint,
    footprint_draw,
    footprint_space,
    log_triangular,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "ewaste_tracker" / "data" / "examples"
EXAMPLE = EXAMPLE / "east_africa"
NAMES = list(INDICATORS)


@pytest.fixture(scope="module")
def setup() -> tuple:
    inputs = read_inputs_folder(EXAMPLE)
    base = prepare_run(inputs)
    central = compute_run(base)
    assert central.first_life is not None
    fspace = footprint_space(inputs, base, central.system, central.first_life)
    return inputs, base, draw_space(inputs, base, Spreads()), fspace


def _column(name: str, group: str) -> int:
    return 2 * NAMES.index(name) + GROUPS.index(group)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_every_draw_keeps_the_footprint_consistent(setup: tuple, seed: int) -> None:
    """Per draw: ICT never exceeds all products, released + avoided refrigerant is the
    refrigerant in e-waste (nothing recaptured is also released), nothing is negative."""
    _, _, space, fspace = setup
    draws = [draw(space, seed, i) for i in range(3)]
    prep = tile_batch(space, draws)
    out = compute_run(prep)
    assert out.first_life is not None
    fdraws = [footprint_draw(fspace, seed, i) for i in range(3)]
    v = batch_footprint(fspace, prep, out.system, out.first_life, draws=draws, fdraws=fdraws)
    assert v.shape[0] == 3 and np.isfinite(v).all() and (v >= -1e-9).all()
    for name in NAMES:
        every, ict = v[..., _column(name, "all")], v[..., _column(name, "ict")]
        assert (ict <= every * (1 + 1e-9) + 1e-9).all(), name
    for group in GROUPS:
        inside = v[..., _column("refrigerant_in_ewaste_t_co2e", group)]
        released = v[..., _column("refrigerant_released_t_co2e", group)]
        avoided = v[..., _column("refrigerant_avoided_t_co2e", group)]
        np.testing.assert_allclose(released + avoided, inside, rtol=1e-9, atol=1e-9)
    # the draws differ from one another (factors and flows are drawn)
    emb = v[..., _column("embodied_ghg_t_co2e", "all")]
    assert not np.allclose(emb[0], emb[1])


def test_bands_are_ordered_and_do_not_depend_on_batches(setup: tuple) -> None:
    """Footprint, element and flow bands: the same for 1 or 2 batches, ordered, not points."""
    inputs = setup[0]
    opts = {"footprint": True, "elements": True, "element_regions": ["KEN"], "flows": True,
            "flow_regions": ["KEN"]}  # fmt: skip
    one = run_bands(inputs, draws=6, seed=5, batch=6, **opts)
    two = run_bands(inputs, draws=6, seed=5, batch=3, **opts)
    for name in ("footprint", "elements", "flows"):
        q = getattr(one, name)
        assert q is not None
        np.testing.assert_array_equal(q, getattr(two, name))
        assert np.isfinite(q).all()
        tol = 1e-6 * np.abs(q).max(axis=1)
        assert (q[:, 0] <= q[:, 1] + tol).all() and (q[:, 1] <= q[:, 2] + tol).all()
        assert (q[:, 2] > q[:, 0]).mean() > 0.3, name  # real ranges, not points
    # the other tables ride on the indicators' draws: their bands are unchanged
    plain = run_bands(inputs, draws=6, seed=5, batch=6)
    np.testing.assert_array_equal(plain.quantiles, one.quantiles)


def test_log_triangular_spans_low_to_high_around_the_central_value() -> None:
    u = (np.arange(2001) + 0.5) / 2001
    x = log_triangular(np.array(2.0), np.array(4.0), np.array(8.0), u)
    assert x.min() >= 2.0 and x.max() <= 8.0
    assert np.median(x) == pytest.approx(4.0, rel=1e-3)  # symmetric on the log scale
    zero = log_triangular(np.array(0.0), np.array(1.0), np.array(3.0), u)  # linear: low 0
    assert zero.min() >= 0.0 and zero.max() <= 3.0
    point = log_triangular(np.array(5.0), np.array(5.0), np.array(5.0), u)
    assert (point == 5.0).all()


def test_each_draw_conserves_the_element_on_every_domestic_route(setup: tuple) -> None:
    from ewaste_tracker.uncertainty.elements import element_cells, element_values

    inputs, _, space, _ = setup
    draws = [draw(space, 9, i) for i in range(3)]
    out = compute_run(tile_batch(space, draws))
    cells = element_cells(compute_run(prepare_run(inputs)).elements, space.base.regions)
    # draw, quantity, route, cell: on the domestic routes recovered + lost = input (the
    # exported route's element is recovered or lost where it is treated)
    v = element_values(cells, out.elements, 3).reshape(3, 3, len(ROUTES), -1)
    dom = v[:, :, : len(DOMESTIC_ROUTES)]
    np.testing.assert_allclose(dom[:, 1] + dom[:, 2], dom[:, 0], rtol=1e-5, atol=1e-6)
    assert (v >= -1e-6).all()


@pytest.mark.slow
def test_with_every_spread_off_each_table_band_is_its_value(setup: tuple) -> None:
    """Zero spreads make every draw the central run: each band row must then sit on its own
    row's value, which checks how the footprint, element and flow cells line up with the
    rows of their tables (product and total detail, trade edges included)."""
    import ewaste_tracker as et

    inputs = setup[0]
    none = Spreads(pom=0, reported_pom=0, lifetime_shape=0, lifetime_scale=0,
                   tc_concentration=1e15, composition=0, recovery=0, prices=0,
                   footprint=0)  # fmt: skip
    est = et.estimate(inputs=inputs)
    est.bands = run_bands(inputs, draws=1, seed=0, batch=1, spreads=none, footprint=True,
                          elements=True, flows=True)  # fmt: skip
    est._cache.clear()
    flows, _ = est.totals()
    for table, value, band in (
        (est.flows, "value_t", "value_t"),
        (flows, "value_t", "value_t"),
        (est.element_flows, "lost_t", "lost_t"),
        (est.footprint[~est.footprint["indicator"].str.startswith("operators_")], "value", ""),
    ):
        sep = "_" if band else ""
        for q in ("p5", "p50", "p95"):
            np.testing.assert_allclose(table[f"{band}{sep}{q}"], table[value], rtol=1e-4,
                                       atol=1e-6)  # fmt: skip
    assert (est.flows["region_to"] != est.flows["region_from"]).any()  # trade rows checked


def test_draws_kept_on_disk_give_the_same_bands(setup: tuple, monkeypatch) -> None:
    """Past the memory budget the kept draws go to a temporary file: same percentiles."""
    import ewaste_tracker.uncertainty.bands as bands_mod

    inputs = setup[0]
    kw = dict(draws=6, seed=3, batch=3, footprint=True, elements=True, flows=True,
              method="exact")  # fmt: skip
    memory = run_bands(inputs, **kw)
    monkeypatch.setattr(bands_mod, "EXACT_LIMIT_BYTES", 1024)
    monkeypatch.setattr(bands_mod, "QUANTILE_BLOCK_BYTES", 4096)  # many column blocks
    disk = run_bands(inputs, **kw)
    assert isinstance(disk.values, np.memmap)
    for a, b in ((memory.quantiles, disk.quantiles), (memory.flows, disk.flows),
                 (memory.elements, disk.elements), (memory.footprint, disk.footprint)):  # fmt: skip
        np.testing.assert_array_equal(a, b)


def test_flows_by_product_that_do_not_fit_fall_back_to_their_totals(
    setup: tuple, monkeypatch
) -> None:
    """Every region's flows by product over budget: the totals still get their bands, the
    same as when everything fits; the rows by product are left without."""
    import ewaste_tracker as et
    import ewaste_tracker.uncertainty.bands as bands_mod

    inputs = setup[0]
    kw = dict(draws=4, seed=5, batch=2, flows=True)
    full = run_bands(inputs, **kw)
    cells = full.quantiles.shape[0]
    est = et.estimate(inputs=inputs)
    est.bands = full
    est._cache.clear()
    full_totals = est.totals()[0]
    by_product = int(est.flows.shape[0])
    # room for the indicators and the totals, not for the flows by product
    budget = 4 * 4 * (cells + full.flows.shape[0] - by_product) + 8
    monkeypatch.setattr(bands_mod, "_exact_budget", lambda: budget)
    part = run_bands(inputs, **kw)
    assert part.flows is not None and part.flows.shape[0] < full.flows.shape[0]
    est.bands = part
    est._cache.clear()
    assert est.flows["value_t_p50"].isna().all()
    totals = est.totals()[0]
    for q in ("value_t_p5", "value_t_p50", "value_t_p95"):
        np.testing.assert_allclose(totals[q], full_totals[q], rtol=1e-6)
