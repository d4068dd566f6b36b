"""The six e-waste categories of a country: put on market, e-waste generated and in use.

The Global E-waste Monitor reports e-waste by the six categories of the EU WEEE Directive
2012/19/EU, Annex III (temperature exchange equipment, screens and monitors, lamps, large
equipment, small equipment, small IT and telecommunication equipment); the 54 UNU-KEYs map
onto them (``data/products.csv``, ``eu6_category``; photovoltaic panels, 4b, are counted in
large equipment, 4). :func:`eu6_table` sums the estimate's dense flows over the UNU-KEYs of
each category for every region and year at once:

.. math:: X_{r,c,n} = \\sum_{p \\in c} X_{r,p,n}

for put on market (``market → use``), e-waste generated net of reuse (the ``generated_t``
indicator, :func:`ewaste_tracker.model.run.generated_net_of_reuse`) and the in-use stock;
the world ``WLD`` and the estimate's groups (UN regions) are the sums of their countries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ewaste_tracker.estimate import Estimate

__all__ = ["EU6_COLUMNS", "EU6_NAMES", "eu6_table"]

EU6_NAMES = {
    "1": "Temperature exchange equipment",
    "2": "Screens and monitors",
    "3": "Lamps",
    "4": "Large equipment (with photovoltaic panels)",
    "5": "Small equipment",
    "6": "Small IT and telecommunication equipment",
}
"""The six categories (Directive 2012/19/EU, Annex III) as the Monitor names them."""
EU6_COLUMNS = ("region", "year", "category", "name", "pom_t", "generated_t", "stock_t")
"""Columns of :func:`eu6_table`."""


def eu6_table(est: Estimate) -> pd.DataFrame:
    """Put on market, e-waste generated and stock by category, region and year (tonnes).

    Returns
    -------
    pandas.DataFrame
        :data:`EU6_COLUMNS`, every modelled region, ``WLD`` and the groups, every year.
    """
    from ewaste_tracker import catalog
    from ewaste_tracker.model.run import generated_net_of_reuse

    system = est.result.system
    dims = est.result.dims
    eu6 = catalog.products().set_index("unu_key")["eu6_category"].astype(str).str.slice(0, 1)
    cat = eu6.reindex(list(dims.products)).fillna("").to_numpy()
    codes = list(EU6_NAMES)
    onehot = (cat[:, None] == np.asarray(codes)[None, :]).astype(float)  # (P, 6)
    arrays = {
        "pom_t": system.flows[("market", "use")],
        "generated_t": generated_net_of_reuse(system),
        "stock_t": system.use_stock,
    }
    summed = {k: np.einsum("rpn,pc->rcn", v, onehot) for k, v in arrays.items()}  # (R, 6, N)
    regions = list(dims.regions)
    groups = est.groups
    labels = ["WLD", *sorted(set(groups.values()))]
    member = np.zeros((len(labels), len(regions)))
    member[0] = 1.0
    for j, g in enumerate(labels[1:], start=1):
        member[j] = [groups.get(r) == g for r in regions]
    summed = {
        k: np.concatenate([v, np.einsum("gr,rcn->gcn", member, v)]) for k, v in summed.items()
    }
    names = regions + labels
    r, c, n = np.meshgrid(
        np.arange(len(names)), np.arange(len(codes)), np.arange(dims.years.size), indexing="ij"
    )
    out = pd.DataFrame(
        {
            "region": np.asarray(names, dtype=object)[r.ravel()],
            "year": dims.years[n.ravel()].astype("int64"),
            "category": np.asarray(codes, dtype=object)[c.ravel()],
        }
    )
    out["name"] = out["category"].map(EU6_NAMES)
    for k, v in summed.items():
        out[k] = v.ravel()
    return out[list(EU6_COLUMNS)]
