"""Public test helpers, for this project's tests and for users checking their own systems.

Examples
--------
>>> from ewaste_tracker.testing import assert_mass_balanced
>>> assert_mass_balanced(G)  # doctest: +SKIP
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from ewaste_tracker.flows.balance import check_mass_balance


def assert_mass_balanced(G: nx.DiGraph, *, rtol: float = 1e-9) -> pd.DataFrame:
    """Assert that every node and year of a lifecycle graph balances.

    Parameters
    ----------
    G
        Lifecycle graph from :func:`ewaste_tracker.flows.system.system_to_graph`.
    rtol
        Allowed residual relative to each node's throughput.

    Returns
    -------
    pandas.DataFrame
        The residual table of :func:`ewaste_tracker.flows.balance.check_mass_balance`.

    Raises
    ------
    ewaste_tracker.flows.errors.MassBalanceError
        Naming the first node and year that do not balance.
    """
    return check_mass_balance(G, rtol=rtol, raise_error=True)


def assert_non_negative(G: nx.DiGraph, *, atol: float = 0.0) -> None:
    """Assert that no flow and no stock in the graph is negative.

    Raises
    ------
    AssertionError
        Naming the edge or node, product index and year of the most negative value.
    """
    years = np.asarray(G.graph["years"])
    for u, v, data in G.edges(data=True):
        flow = np.asarray(data["flow"])
        if flow.size and flow.min() < -atol:
            p, n = np.unravel_index(int(flow.argmin()), flow.shape)
            raise AssertionError(
                f"negative flow {flow[p, n]:.6g} t on {u} -> {v}, product #{p}, year {years[n]}"
            )
    for node, data in G.nodes(data=True):
        stock = data.get("stock")
        if stock is not None and np.size(stock) and np.min(stock) < -atol:
            stock = np.asarray(stock)
            p, n = np.unravel_index(int(stock.argmin()), stock.shape)
            raise AssertionError(
                f"negative stock {stock[p, n]:.6g} t at {node}, product #{p}, year {years[n]}"
            )
