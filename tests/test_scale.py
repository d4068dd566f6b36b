"""A sub-national study end to end: the written tables add up to the engine's arrays.

``run --inputs`` on a synthetic districts folder (:func:`ewaste_tracker.testing.districts_folder`)
writes product-level flows, stocks and element flows block by block; read back column by
column, their totals per edge, stage and route must be the sums of the dense arrays the engine
computed, and every cell must be there once. The 2,500-district run is the scale a real
sub-national study reaches (``slow``); 40 districts run in the quick suite.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ewaste_tracker.estimate import Estimate
from ewaste_tracker.jobs.run import run_to_folder
from ewaste_tracker.testing import districts_folder


def _sums(path: Path, keys: list[str], values: list[str]) -> dict[tuple[str, ...], np.ndarray]:
    """Sums of ``values`` by ``keys``, read row group by row group (bounded memory)."""
    out: dict[tuple[str, ...], np.ndarray] = {}
    file = pq.ParquetFile(path)
    for i in range(file.num_row_groups):
        table = file.read_row_group(i, columns=[*keys, *values])
        grouped = table.group_by(keys).aggregate([(v, "sum") for v in values]).to_pydict()
        for j in range(len(grouped[keys[0]])):
            key = tuple(str(grouped[k][j]) for k in keys)
            add = np.array([grouped[f"{v}_sum"][j] for v in values])
            out[key] = out.get(key, 0.0) + add
    return out


def _check(est: Estimate, out: Path) -> None:
    system = est.result.system
    n_r, n_p, n_y = len(system.regions), len(system.products), len(system.years)

    # flows: one row per edge, product and year; within-region edges summed per stage pair,
    # trade edges (between districts and to the rest of the world) in total
    flows = out / "flows.parquet"
    # each link between districts is an edge; the links of an origin to ROW are one edge
    between = sum(d != "ROW" for _, d, _, _ in system.trade)
    n_trade_edges = between + len({o for o, d, _, _ in system.trade if d == "ROW"})
    assert pq.ParquetFile(flows).metadata.num_rows == (
        (len(system.flows) * n_r + n_trade_edges) * n_p * n_y
    )
    by_stage = _sums(flows, ["stage_from", "stage_to", "hs_code"], ["value_t"])
    within = {k[:2]: v[0] for k, v in by_stage.items() if k[2] == ""}
    for key, arr in system.flows.items():
        np.testing.assert_allclose(within[key], arr.sum(), rtol=1e-9, err_msg=str(key))
    traded = sum(v[0] for k, v in by_stage.items() if k[2] != "")
    np.testing.assert_allclose(traded, system.trade_flows.sum(), rtol=1e-9)

    # one district's flows match its slice of the arrays
    first = pq.read_table(flows, columns=["region_from", "region_to", "stage_from", "stage_to",
                                          "value_t"],
                          filters=[("region_to", "=", system.regions[0])])  # fmt: skip
    own = first.filter(pc.is_in(first["region_from"].cast("string"),
                                value_set=pa.array([system.regions[0], "sysenv"])))  # fmt: skip
    np.testing.assert_allclose(
        pc.sum(own["value_t"]).as_py(), sum(a[0].sum() for a in system.flows.values()), rtol=1e-9
    )

    # stocks by stage
    stocks = _sums(out / "stocks.parquet", ["stage"], ["stock_t", "stock_change_t"])
    assert pq.ParquetFile(out / "stocks.parquet").metadata.num_rows == (
        len(system.stocks) * n_r * n_p * n_y
    )
    for stage, arr in system.stocks.items():
        np.testing.assert_allclose(stocks[(stage,)][0], arr.sum(), rtol=1e-9, err_msg=stage)
        np.testing.assert_allclose(stocks[(stage,)][1], system.stock_changes[stage].sum(),
                                   rtol=1e-9, atol=1e-6, err_msg=stage)  # fmt: skip

    # element flows by route
    routes = _sums(out / "element_flows.parquet", ["route"], ["input_t", "recovered_t", "lost_t"])
    for route, res in est.result.elements.routes.items():
        want = [np.sum(res.input_t), np.sum(res.recovered_t), np.sum(res.lost_t)]
        np.testing.assert_allclose(routes[(route,)], want, rtol=1e-9, err_msg=route)

    # indicators: put on market of every district and year, summed, is the input's
    ind = pq.read_table(out / "indicators.parquet", columns=["region", "indicator", "value"],
                        filters=[("indicator", "=", "pom_t")])  # fmt: skip
    districts = pc.is_in(ind["region"].cast("string"), value_set=pa.array(system.regions))
    total = pc.sum(ind.filter(districts)["value"]).as_py()
    np.testing.assert_allclose(total, est.inputs.pom["pom_t"].sum(), rtol=1e-9)


@pytest.mark.parametrize(
    "districts", [40, pytest.param(2500, marks=pytest.mark.slow, id="2500-districts")]
)
def test_districts_outputs_add_up_to_the_engine(tmp_path: Path, districts: int) -> None:
    folder = districts_folder(tmp_path / "inputs", districts=districts, provinces=10)
    out = tmp_path / "out"
    est = run_to_folder(folder, out)
    assert len(est.result.system.regions) == districts
    _check(est, out)


def test_a_failed_table_publishes_nothing_and_stops_the_other_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flows are written in a thread beside the other tables: when either side fails,
    the error reaches the caller, the flows stop at their next block and no folder appears."""
    import threading

    from ewaste_tracker.estimate import estimate

    folder = districts_folder(tmp_path / "inputs", districts=40, provinces=4)
    est = estimate(inputs=folder)
    real = est.blocks
    out = tmp_path / "out"
    flow_blocks: list[int] = []
    for failing in ("flows", "footprint"):
        flow_blocks.clear()

        def blocks(name: str, _failing: str = failing, **kw: object):  # type: ignore[no-untyped-def]
            for i, block in enumerate(real(name, **kw)):  # type: ignore[arg-type]
                if name == "flows":
                    flow_blocks.append(i)
                if name == _failing:
                    raise RuntimeError(f"{name} cannot be written")
                yield block

        monkeypatch.setattr(est, "blocks", blocks)
        with pytest.raises(RuntimeError, match=f"{failing} cannot be written"):
            est.to_folder(out)
        assert not out.exists(), failing
        assert not [t for t in threading.enumerate() if t.name.startswith(("flows", "parquet"))]
        if failing == "flows":
            assert flow_blocks == [0]
    monkeypatch.setattr(est, "blocks", real)
    est.to_folder(out)  # and a later write of the same estimate succeeds whole
    assert (out / "flows.parquet").is_file() and (out / "datapackage.json").is_file()
