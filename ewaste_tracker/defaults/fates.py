r"""Default fates: where e-waste goes in countries without data, and where exports land.

Collection
----------
:func:`default_transfer_coefficients` gives every region the lifecycle transfer coefficients of
its income group (:func:`ewaste_tracker.catalog.default_transfer_coefficients`) with the split
of ``generated`` replaced by the country's own formal share
(data/collection_rates.csv: the Monitor's documented collection where the annex publishes it,
the prior of :mod:`ewaste_tracker.defaults.collection` elsewhere) scaled over the years by
:func:`~ewaste_tracker.defaults.collection.formal_rate_history`; the non-formal remainder goes
to residual waste with the calibrated share :math:`q` of the income group
(data/default_transfer_coefficients.csv) and to informal collection otherwise.

Exports
-------
Richer countries (high and upper-middle income) export from formal collection (*controlled*
movements, share :math:`s_c`) and from informal collection (*uncontrolled*, share
:math:`s_u`); both shares are calibrated so that the 2019 world totals are the Global
Transboundary E-waste Flows Monitor's (Baldé et al. 2022: 5.1 Mt crossed borders, 1.8 Mt
controlled, 3.3 Mt uncontrolled). :func:`default_exports` sends them by a gravity model
(Tinbergen 1962; parameters: the medians of the meta-analysis of Head & Mayer 2014,
*Gravity equations: workhorse, toolkit, and cookbook*, Handbook of International Economics 4,
ch. 3, table 3.4 — destination GDP elasticity 0.85, distance elasticity 0.89; recalled):

.. math::

    w_{ij} = \frac{Y_j^{0.85}\, d_{ij}^{-0.89}}{\sum_{k \in D} Y_k^{0.85}\, d_{ik}^{-0.89}},
    \quad j \in D,

with :math:`Y_j` GDP (2019) and :math:`d_{ij}` the great-circle distance between the countries'
representative points (data/country_centroids.csv, at least :data:`MIN_DISTANCE_KM`).
Controlled movements go to the other high-income countries' formal pre-processing
(the GTEFM: controlled movements are mostly between high-income countries); uncontrolled ones
go to low- and lower-middle-income countries, :data:`USED_SHARE_OF_EXPORTS` of them declared
and used as second-hand equipment (``use``), the rest to informal recycling. Each origin's
shares mix the two by its 2019 controlled share. Other regions ship any export to ``ROW``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.defaults.collection import RATES_FILE, RICH, formal_rate_history
from ewaste_tracker.defaults.pom import DefaultsError

__all__ = [
    "CENTROIDS_FILE",
    "DISTANCE_ELASTICITY",
    "GDP_ELASTICITY",
    "TC_FILE",
    "USED_SHARE_OF_EXPORTS",
    "default_exports",
    "default_transfer_coefficients",
    "formal_rate_history",
]

TC_FILE = "default_transfer_coefficients.csv"
"""Residual shares and export shares by income group (written by the calibration)."""
CENTROIDS_FILE = "country_centroids.csv"
GDP_ELASTICITY = 0.85
"""Destination GDP elasticity of the gravity model (Head & Mayer 2014, median; recalled)."""
DISTANCE_ELASTICITY = 0.89
"""Distance elasticity of the gravity model (Head & Mayer 2014, median; recalled)."""
MIN_DISTANCE_KM = 100.0
#: Share of uncontrolled e-waste shipments declared (and used) as second-hand equipment:
#: the Global E-waste Monitor 2024 gives 33-70 %; the default takes the low end.
USED_SHARE_OF_EXPORTS = 1 / 3
TOP_CONTROLLED = 8
"""Destinations kept per origin for controlled movements."""
TOP_UNCONTROLLED = 12
"""Destinations kept per origin for uncontrolled movements."""
HISTORY_SOURCE = "; formal rate x h(year) (ewaste_tracker.defaults.collection.formal_rate_history)"


def _csv(name: str) -> pd.DataFrame:
    path = catalog.data_path(name)
    if not path.is_file():
        raise DefaultsError(f"{path} is missing; run scripts/calibrate_defaults.py")
    return pd.read_csv(path, dtype={"iso3": str}, keep_default_na=False, na_values=[""])


def _calibration() -> pd.DataFrame:
    cal = _csv(TC_FILE)
    cal["share"] = pd.to_numeric(cal["share"])
    return cal


def _formal_shares(regions: Sequence[str], info: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """2022 share of ``generated`` collected formally, and its source, per region."""
    rates = _csv(RATES_FILE).set_index("iso3")
    share = rates["formal_share_2022"].reindex(list(regions)).to_numpy(float)
    src = rates["source"].reindex(list(regions)).fillna("").to_numpy(object)
    gap = ~np.isfinite(share)
    if gap.any():  # a region the calibration did not see: its income group's median
        med = rates.groupby("income_group")["formal_share_2022"].median()
        share[gap] = info["income_group"].map(med).fillna(0.0).to_numpy(float)[gap]
        src[gap] = "median formal share of the income group (data/collection_rates.csv)"
    return share, src


def default_transfer_coefficients(
    regions: Sequence[str], *, years: Iterable[int] = range(1970, 2031)
) -> pd.DataFrame:
    """Default transfer coefficients for ``regions`` (equations in the module docstring).

    Returns
    -------
    pandas.DataFrame
        ``region, product, year, from_stage, to_stage, share, source``. The ``generated`` split
        has one row per year (its formal rate follows the documented-collection history); all
        other rows have a blank ``year`` and apply to every year. ``product`` is blank.
    """
    yrs = np.asarray(list(years), dtype=np.int64)
    regions = list(regions)
    base = catalog.default_transfer_coefficients(regions)
    info = catalog.countries().set_index("iso3").loc[regions]
    cal = _calibration()
    f22, fsrc = _formal_shares(regions, info)
    res = cal[(cal["from_stage"] == "generated") & (cal["to_stage"] == "residual")]
    res = res.set_index("income_group")
    q = info["income_group"].map(res["share"]).fillna(0.0).to_numpy(float)
    qsrc = info["income_group"].map(res["source"]).fillna("").to_numpy(object)
    ft = np.minimum(f22[:, None] * formal_rate_history(yrs)[None, :], 0.95)
    parts = {
        "collection_formal": (ft, fsrc + HISTORY_SOURCE),
        "collection_informal": ((1 - ft) * (1 - q[:, None]), qsrc + HISTORY_SOURCE),
        "residual": ((1 - ft) * q[:, None], qsrc + HISTORY_SOURCE),
    }
    frames = [
        pd.DataFrame(
            {
                "region": np.repeat(np.array(regions, dtype=object), yrs.size),
                "product": "",
                "year": np.tile(yrs, len(regions)),
                "from_stage": "generated",
                "to_stage": to,
                "share": arr.ravel(),
                "source": np.repeat(src, yrs.size),
            }
        )
        for to, (arr, src) in parts.items()
    ]
    down = base[base["from_stage"] != "generated"].copy()
    down["share"] = down["share"].astype(float)
    for stage in ("collection_formal", "collection_informal"):
        row = cal[(cal["from_stage"] == stage) & (cal["to_stage"] == "export")]
        x = info["income_group"].map(row.set_index("income_group")["share"])
        xsrc = info["income_group"].map(row.set_index("income_group")["source"])
        sel = (down["from_stage"] == stage) & down["region"].map(x).notna()
        if not sel.any():
            continue
        xs = down.loc[sel, "region"].map(x)
        is_exp = down.loc[sel, "to_stage"] == "export"
        old = down[sel & (down["to_stage"] == "export")].set_index("region")["share"]
        scale = (1 - xs) / (1 - down.loc[sel, "region"].map(old))
        down.loc[sel, "share"] = np.where(is_exp, xs, down.loc[sel, "share"] * scale)
        hit = sel & (down["to_stage"] == "export")
        down.loc[hit, "source"] = down.loc[hit, "region"].map(xsrc)
    down["year"] = pd.NA
    down["product"] = ""
    cols = ["region", "product", "year", "from_stage", "to_stage", "share", "source"]
    out = pd.concat([*frames, down[cols]], ignore_index=True)
    out["year"] = out["year"].astype("Int64")
    return out


def _distances(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) between all pairs of points (haversine, R = 6371 km)."""
    la, lo = np.radians(lat), np.radians(lon)
    dla = la[:, None] - la[None, :]
    dlo = lo[:, None] - lo[None, :]
    a = np.sin(dla / 2) ** 2 + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin(dlo / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def gravity_weights(
    origins: Sequence[str], destinations: Sequence[str], gdp: pd.Series, centroids: pd.DataFrame
) -> np.ndarray:
    """``(O, D)`` gravity shares :math:`w_{ij}` (module docstring); rows sum to 1."""
    pts = centroids.set_index("iso3")
    o = pts.reindex(list(origins))
    d = pts.reindex(list(destinations))
    both = pd.concat([o, d])
    dist = _distances(both["lon"].to_numpy(float), both["lat"].to_numpy(float))
    dist = np.maximum(dist[: len(o), len(o) :], MIN_DISTANCE_KM)
    mass = gdp.reindex(list(destinations)).fillna(0.0).to_numpy(float) ** GDP_ELASTICITY
    w = mass[None, :] * dist**-DISTANCE_ELASTICITY
    w[np.asarray(origins, dtype=object)[:, None] == np.asarray(destinations, dtype=object)] = 0.0
    total = w.sum(axis=1, keepdims=True)
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)


def default_exports(regions: Sequence[str], *, year: int = 2019) -> pd.DataFrame:
    """Default export destinations of every region (named assumption ``default_exports``).

    See the module docstring. Each origin keeps its :data:`TOP_CONTROLLED` and
    :data:`TOP_UNCONTROLLED` largest gravity destinations (most of the gravity mass: distance
    decay concentrates it on neighbours and large economies) and the rest is rescaled, to keep
    the trade list, and the engine's run time, small.

    Parameters
    ----------
    regions
        ISO3 codes of the run.
    year
        Year of the GDP and of the controlled/uncontrolled mix (the GTEFM's 2019).

    Returns
    -------
    pandas.DataFrame
        ``origin, destination, to_stage, share`` for
        :class:`ewaste_tracker.flows.transfer.ExportDestinations`.
    """
    regions = list(regions)
    info = catalog.countries().set_index("iso3").reindex(regions)
    income = info["income_group"].fillna("")
    ts = catalog.population_gdp()
    ts = ts[(ts["year"] == year) & ts["region"].isin(regions)].set_index("region")
    gdp = ts["population"] * ts["gdp_per_capita_usd"]
    inhabited = ~pd.Index(regions).isin(catalog.UNINHABITED)
    rich = [r for r, ok in zip(regions, inhabited, strict=True) if ok and income[r] in RICH]
    high = [r for r in rich if income[r] == "High income"]
    poor = [r for r, ok in zip(regions, inhabited, strict=True)
            if ok and income[r] in ("Low income", "Lower middle income")]  # fmt: skip
    centroids = _csv(CENTROIDS_FILE)
    cal = _calibration()
    s = {
        st: cal[(cal["from_stage"] == st) & (cal["to_stage"] == "export")].set_index(
            "income_group"
        )["share"]
        for st in ("collection_formal", "collection_informal")
    }
    res = cal[(cal["from_stage"] == "generated") & (cal["to_stage"] == "residual")]
    q = income.reindex(rich).map(res.set_index("income_group")["share"]).fillna(0.0).to_numpy()
    f = np.minimum(_formal_shares(rich, info.reindex(rich))[0] * formal_rate_history([year])[0],
                   0.95)  # fmt: skip
    sc = income.reindex(rich).map(s["collection_formal"]).fillna(0.0).to_numpy(float)
    su = income.reindex(rich).map(s["collection_informal"]).fillna(0.0).to_numpy(float)
    controlled = f * sc
    uncontrolled = (1 - f) * (1 - q) * su
    mix = np.where(controlled + uncontrolled > 0,
                   controlled / np.maximum(controlled + uncontrolled, 1e-300), 0.0)  # fmt: skip
    frames = []
    if rich and high:
        w = _top(gravity_weights(rich, high, gdp, centroids), TOP_CONTROLLED) * mix[:, None]
        frames.append(_edges(rich, high, w, "preprocessing"))
    if rich and poor:
        w = _top(gravity_weights(rich, poor, gdp, centroids), TOP_UNCONTROLLED)
        w = w * (1 - mix)[:, None]
        frames.append(_edges(rich, poor, w * USED_SHARE_OF_EXPORTS, "use"))
        frames.append(_edges(rich, poor, w * (1 - USED_SHARE_OF_EXPORTS), "recycling_informal"))
    table = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["origin", "destination", "to_stage", "share"])
    )
    table = table[table["share"] > 0]
    table["share"] = table["share"] / table.groupby("origin")["share"].transform("sum")
    shipping = set(table["origin"].tolist())
    others = [r for r in regions if r not in shipping]
    row = pd.DataFrame({"origin": others, "destination": "ROW", "to_stage": "", "share": 1.0})
    return pd.concat([table, row], ignore_index=True)


def _top(w: np.ndarray, k: int) -> np.ndarray:
    """Keep the ``k`` largest shares of each row and rescale the row to 1."""
    if w.shape[1] > k:
        cut = np.partition(w, -k, axis=1)[:, -k][:, None]
        w = np.where(w >= cut, w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return np.where(total > 0, w / np.where(total > 0, total, 1.0), 0.0)


def _edges(origins: Sequence[str], dest: Sequence[str], w: np.ndarray, stage: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "origin": np.repeat(np.asarray(origins, dtype=object), len(dest)),
            "destination": np.tile(np.asarray(dest, dtype=object), len(origins)),
            "to_stage": stage,
            "share": w.ravel(),
        }
    )
