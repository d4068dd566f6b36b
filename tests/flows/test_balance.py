"""Mass balance of the lifecycle graph, its tidy tables and Sankey views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from ewaste_tracker.flows.balance import (
    check_mass_balance,
    frames_to_graph,
    graph_to_frames,
    graph_to_sankey,
)
from ewaste_tracker.flows.errors import MassBalanceError
from ewaste_tracker.flows.system import build_system, system_to_graph
from ewaste_tracker.flows.transfer import ExportDestinations, TransferCoefficients
from tests.conftest import examples
from tests.flows.test_system import make_dims, systems, tc_table, weibull_matrix

FLOW_COLUMNS = ["region_from", "stage_from", "region_to", "stage_to", "product", "year", "value_t"]
STOCK_COLUMNS = ["region", "stage", "product", "year", "stock_t", "stock_change_t"]


@pytest.fixture
def graph():
    dims = make_dims(2, 2, 6)
    tcs = TransferCoefficients.from_frame(tc_table(), dims)
    exports = ExportDestinations.from_frame(
        pd.DataFrame(
            {
                "origin": ["R0", "R0"],
                "destination": ["R1", "ROW"],
                "to_stage": ["preprocessing", ""],
                "share": [0.75, 0.25],
            }
        ),
        dims,
    )
    pom = np.arange(24, dtype=float).reshape(dims.shape) + 1
    life = (np.zeros((2, 2), int), weibull_matrix(6, 1.5, 3.0)[None])
    res = build_system(pom, dims, tcs, life, exports=exports)
    return system_to_graph(res), dims


def test_balanced_graph_passes_every_node_and_the_system(graph) -> None:
    G, dims = graph
    table = check_mass_balance(G)
    assert list(table.columns) == [
        "region",
        "stage",
        "year",
        "inputs_t",
        "outputs_t",
        "stock_change_t",
        "residual_t",
        "max_rel_residual",
        "ok",
    ]
    assert table["ok"].all()
    assert len(table) == (G.number_of_nodes() - 1 + 1) * len(dims.years)
    system = table[(table.region == "sysenv") & (table.stage == "system")]
    assert len(system) == len(dims.years)
    # boundary in (POM) - boundary out (ROW exports) = all stock changes
    np.testing.assert_allclose(system["inputs_t"] - system["outputs_t"], system["stock_change_t"])


def test_unbalanced_node_names_node_and_year(graph) -> None:
    G, _ = graph
    edge = G.edges[("R1", "preprocessing"), ("R1", "endprocessing")]
    broken = edge["flow"].copy()
    broken[1, 3] += 5.0
    edge["flow"] = broken
    with pytest.raises(MassBalanceError) as err:
        check_mass_balance(G)
    assert err.value.node in {("R1", "preprocessing"), ("R1", "endprocessing")}
    assert err.value.year == 2003 and err.value.product == "0001"
    assert "2003" in str(err.value) and "R1" in str(err.value)
    table = check_mass_balance(G, raise_error=False)
    bad = table[~table["ok"]]
    assert set(bad["stage"]) == {"preprocessing", "endprocessing"} and set(bad["year"]) == {2003}
    assert isinstance(err.value, ValueError)


def test_frames_have_documented_columns_and_totals(graph) -> None:
    G, dims = graph
    flows, stocks = graph_to_frames(G, dims=dims)
    assert list(flows.columns) == FLOW_COLUMNS
    assert list(stocks.columns) == STOCK_COLUMNS
    assert len(flows) == G.number_of_edges() * 2 * 6
    pom = flows[(flows.stage_from == "sysenv") & (flows.stage_to == "manufacture")]
    assert pom["value_t"].sum() == pytest.approx(np.arange(1, 25).sum())
    trade = flows[(flows.region_from == "R0") & (flows.region_to == "R1")]
    assert set(trade["stage_to"]) == {"preprocessing"}
    assert set(stocks["stage"]) == {"use", "recovered", "disposed", "losses"}


@settings(max_examples=examples(25))
@given(systems())
def test_graph_table_round_trip(system: tuple) -> None:
    dims, pom, tcs, life, second, exports = system
    G = system_to_graph(build_system(pom, dims, tcs, life, second_life=second, exports=exports))
    H = frames_to_graph(*graph_to_frames(G), dims=dims)
    assert set(H.edges) == set(G.edges)
    assert set(H.nodes) == set(G.nodes)
    for u, v, f in G.edges(data="flow"):
        np.testing.assert_array_equal(H.edges[u, v]["flow"], f)
    for v, d in G.nodes(data=True):
        if "stock" in d:
            np.testing.assert_array_equal(H.nodes[v]["stock"], d["stock"])
            np.testing.assert_array_equal(H.nodes[v]["stock_change"], d["stock_change"])
    assert check_mass_balance(H)["ok"].all()


def test_sankey_links_index_nodes_and_include_trade(graph) -> None:
    G, _ = graph
    nodes, links = graph_to_sankey(G, region="R1", year=2004)
    assert list(links.columns[:3]) == ["source", "target", "value_t"]
    assert links["source"].between(0, len(nodes) - 1).all()
    assert (links["value_t"] > 0).all()
    imports = links[links.region_from == "R0"]
    assert list(imports["stage_to"]) == ["preprocessing"]
    flow = G.edges[("R0", "export"), ("R1", "preprocessing")]["flow"][:, 4].sum()
    assert imports["value_t"].item() == pytest.approx(flow)
    # per product, the same link carries that product's flow only
    _, one = graph_to_sankey(G, region="R1", year=2004, product="0001")
    gen = one[(one.stage_from == "use") & (one.stage_to == "generated")]
    assert gen["value_t"].item() == pytest.approx(
        G.edges[("R1", "use"), ("R1", "generated")]["flow"][1, 4]
    )
    # every stage of R1 with throughput balances in the Sankey too
    into = links.groupby("target")["value_t"].sum()
    out = links.groupby("source")["value_t"].sum()
    pre = nodes.index[(nodes.region == "R1") & (nodes.stage == "preprocessing")].item()
    assert into[pre] == pytest.approx(out[pre])
    with pytest.raises(ValueError, match="year 1990"):
        graph_to_sankey(G, region="R1", year=1990)
