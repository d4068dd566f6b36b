"""Tidy tables straight from the dense system equal those read off the lifecycle graph."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ewaste_tracker.flows.balance import graph_to_frames
from ewaste_tracker.flows.system import build_system, system_to_graph
from ewaste_tracker.flows.tables import system_to_frames
from tests.flows.test_system import systems

KEYS = ["region_from", "stage_from", "region_to", "stage_to"]


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.astype({k: str for k in keys if k in frame.columns})
    return out.sort_values([*keys, "year"], kind="stable").reset_index(drop=True)


@settings(max_examples=30)
@given(systems(), st.data())
def test_dense_tables_equal_the_graph_tables(system: tuple, data: st.DataObject) -> None:
    dims, pom, tcs, life, second, exports = system
    res = build_system(pom, dims, tcs, life, second_life=second, exports=exports)
    flows_g, stocks_g = graph_to_frames(system_to_graph(res))
    flows_d, stocks_d = system_to_frames(res)
    fk, sk = [*KEYS, "product"], ["region", "stage", "product"]
    # the dense table adds the trade codes (hs_code, basel_code) to the graph's columns
    flows_d = flows_d[list(flows_g.columns)]
    pd.testing.assert_frame_equal(_sorted(flows_d, fk), _sorted(flows_g, fk), check_dtype=False)
    pd.testing.assert_frame_equal(_sorted(stocks_d, sk), _sorted(stocks_g, sk), check_dtype=False)

    # a subset of regions keeps their nodes and every trade edge touching them
    regions = data.draw(st.lists(st.sampled_from(dims.regions), min_size=1, unique=True))
    sub, _ = system_to_frames(res, regions=regions)
    touch = flows_g["region_from"].isin(regions) | flows_g["region_to"].isin(regions)
    own = flows_g["region_from"].eq("sysenv") & flows_g["region_to"].isin(regions)
    assert len(sub) == int((touch | own).sum())

    # totals are the sums over products, along the array axis
    tot, tot_st = system_to_frames(res, by_product=False)
    assert "product" not in tot.columns
    want = flows_g.groupby([*KEYS, "year"], observed=True)["value_t"].sum()
    got = tot.set_index([*KEYS, "year"])["value_t"]
    got.index = got.index.set_levels([lv.astype(str) for lv in got.index.levels[:4]] +
                                     [got.index.levels[4]])  # fmt: skip
    want.index = want.index.set_levels([lv.astype(str) for lv in want.index.levels[:4]] +
                                       [want.index.levels[4]])  # fmt: skip
    np.testing.assert_allclose(got.sort_index().to_numpy(), want.sort_index().to_numpy(),
                               rtol=1e-12, atol=1e-12)  # fmt: skip
    assert np.isclose(tot_st["stock_t"].sum(), stocks_g["stock_t"].sum(), rtol=1e-12)
