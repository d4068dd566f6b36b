"""Public test helpers, for this project's tests and for users checking their own systems.

Examples
--------
>>> from ewaste_tracker.testing import assert_mass_balanced
>>> assert_mass_balanced(G)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def districts_folder(
    path: str | Path,
    *,
    districts: int = 2500,
    provinces: int = 50,
    first: int = 1980,
    last: int = 2030,
    seed: int = 20261201,
) -> Path:
    """Write a synthetic sub-national ``run --inputs`` folder (for scale tests and benchmarks).

    The folder has the files of a real sub-national study: ``pom.csv`` for every district,
    UNU-KEY and year; ``population.csv``; ``groups.csv`` (districts in provinces);
    ``transfer_coefficients.csv`` (each district takes the catalogue's default fates of one of
    the four income groups, cycling, as a district-specific block); ``exports.csv`` (the first
    2 % of districts, the cities, ship used equipment and e-waste to four rural districts each
    and the rest out of the country). Lifetimes, composition, recovery and prices are left to
    the catalogue's defaults. The numbers are synthetic but of realistic size: district
    population log-normal around 80,000 and growing 2 % a year, put on market 5 to 25 kg per
    inhabitant split over UNU-KEYs by a seeded Dirichlet draw and growing 4 % a year.

    Parameters
    ----------
    path
        Folder to create (must not exist).
    districts, provinces
        Number of districts (codes ``D0001`` ...) and of provinces (``P01`` ...).
    first, last
        Years of put on market.
    seed
        Seed of the random draws (the folder is reproducible).

    Returns
    -------
    pathlib.Path
        The folder.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from ewaste_tracker import catalog

    folder = Path(path)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    codes = [f"D{i + 1:04d}" for i in range(districts)]
    products = catalog.products()["unu_key"].astype(str).tolist()
    years = np.arange(first, last + 1)
    n_r, n_p, n_y = districts, len(products), len(years)

    pop0 = rng.lognormal(np.log(80_000), 0.8, n_r)
    pop = pop0[:, None] * 1.02 ** (years - first)[None, :]
    kg = rng.uniform(5.0, 25.0, n_r)[:, None] * rng.dirichlet(np.full(n_p, 0.7))[None, :]
    growth = 1.04 ** (years - first)
    noise = rng.uniform(0.9, 1.1, (n_r, n_p, n_y))
    pom = np.round(pop0[:, None, None] * kg[:, :, None] * growth * noise / 1000.0, 3)

    def write(name: str, columns: dict[str, Any]) -> None:
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        with open(folder / f"{name}.csv", "wb") as fh:
            fh.write((",".join(columns) + "\n").encode())
            pacsv.write_csv(pa.table(columns), fh, write_options=options)

    write("pom", {
        "region": pa.DictionaryArray.from_arrays(
            pa.array(np.repeat(np.arange(n_r, dtype=np.int32), n_p * n_y)), pa.array(codes)
        ).cast(pa.string()),
        "product": pa.DictionaryArray.from_arrays(
            pa.array(np.tile(np.repeat(np.arange(n_p, dtype=np.int32), n_y), n_r)),
            pa.array(products),
        ).cast(pa.string()),
        "year": np.tile(years, n_r * n_p),
        "pom_t": pom.ravel(),
    })  # fmt: skip
    write("population", {
        "region": np.repeat(np.asarray(codes, dtype=object), n_y),
        "year": np.tile(years, n_r),
        "population": np.round(pop).ravel(),
    })  # fmt: skip
    write("groups", {
        "region": codes,
        "group": [f"P{i % provinces + 1:02d}" for i in range(n_r)],
    })  # fmt: skip
    base = catalog.default_transfer_coefficients(None)
    base = base[base["un_region"] == ""]
    incomes = sorted(base["income_group"].unique())
    blocks = []
    for k, income in enumerate(incomes):
        sub = base[base["income_group"] == income]
        mine = [c for i, c in enumerate(codes) if i % len(incomes) == k]
        blocks.append(pd.DataFrame({
            "region": np.repeat(mine, len(sub)),
            "product": np.tile(sub["product"].to_numpy(object), len(mine)),
            "year": np.tile(sub["year"].to_numpy(object), len(mine)),
            "from_stage": np.tile(sub["from_stage"].to_numpy(object), len(mine)),
            "to_stage": np.tile(sub["to_stage"].to_numpy(object), len(mine)),
            "share": np.tile(sub["share"].to_numpy(float), len(mine)),
        }))  # fmt: skip
    tcs = pd.concat(blocks, ignore_index=True)
    tcs.to_csv(folder / "transfer_coefficients.csv", index=False)
    cities = max(1, districts // 50)
    rural = np.arange(cities, districts)
    rows = []
    for o in range(cities):
        dest = rng.choice(rural, size=min(4, rural.size), replace=False)
        for d in dest:
            rows.append((codes[o], codes[d], "use", 0.1))
            rows.append((codes[o], codes[d], "recycling_informal", 0.05))
        rows.append((codes[o], "ROW", "", round(1.0 - 0.15 * len(dest), 10)))
    pd.DataFrame(rows, columns=["origin", "destination", "to_stage", "share"]).to_csv(
        folder / "exports.csv", index=False
    )
    return folder
