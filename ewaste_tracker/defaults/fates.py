r"""Default fates: where e-waste goes in countries without data, and where exports land.

:func:`default_transfer_coefficients` gives every region the lifecycle transfer coefficients of
its income group (:func:`ewaste_tracker.catalog.default_transfer_coefficients`) with the split of
``generated`` replaced by the calibrated split of data/default_transfer_coefficients.csv and
its formal collection rate scaled over the years (see :mod:`ewaste_tracker.defaults.calibration`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ewaste_tracker import catalog
from ewaste_tracker.defaults.pom import DefaultsError

__all__ = [
    "EXPORT_DESTINATIONS",
    "TC_FILE",
    "USED_SHARE_OF_EXPORTS",
    "default_exports",
    "default_transfer_coefficients",
    "formal_rate_history",
]

TC_FILE = "default_transfer_coefficients.csv"
"""The calibrated split of ``generated`` and the export share (written by the calibration)."""
HISTORY = ((1995, 0.0), (2010, 8.0 / 34.0), (2022, 13.8 / 62.0), (2030, 0.20))
"""World documented collection rate anchors (GEM 2024; 1995: assumption, see the docstring)."""


def formal_rate_history(years: Iterable[int]) -> np.ndarray:
    """:math:`h(t) = R(t)/R(2022)`, the factor applied to the 2022 formal rates."""
    x, y = np.array(HISTORY, dtype=float).T
    return np.interp(np.asarray(list(years), float), x, y, left=0.0) / y[2]


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
    base = catalog.default_transfer_coefficients(list(regions))
    info = catalog.countries().set_index("iso3").loc[list(regions)]
    path = catalog.data_path(TC_FILE)
    if not path.is_file():
        raise DefaultsError(f"{path} is missing; run scripts/calibrate_defaults.py")
    cal = pd.read_csv(path, dtype=str, keep_default_na=False)
    cal["share"] = pd.to_numeric(cal["share"])
    key = pd.DataFrame(
        {
            "region": list(regions),
            "income_group": info["income_group"].to_numpy(),
            "un_region": info["un_region"].to_numpy(),
        }
    )
    # most specific (income_group, un_region) row wins over (income_group, blank)
    gen = cal[cal["from_stage"] == "generated"]
    spec = key.merge(gen, on=["income_group", "un_region"], how="inner")
    rest = key[~key["region"].isin(spec["region"])].drop(columns="un_region")
    gen_all = pd.concat([spec, rest.merge(gen[gen["un_region"] == ""], on="income_group")])
    wide = gen_all.pivot_table(index="region", columns="to_stage", values="share").reindex(
        list(regions)
    )
    src = gen_all.drop_duplicates(["region", "to_stage"]).set_index(["region", "to_stage"])[
        "source"
    ]
    h = formal_rate_history(yrs)
    f22 = wide["collection_formal"].to_numpy()
    ratio = wide["residual"].to_numpy() / (1.0 - f22)
    ft = np.minimum(f22[:, None] * h[None, :], 0.95)
    parts = {
        "collection_formal": ft,
        "collection_informal": (1 - ft) * (1 - ratio[:, None]),
        "residual": (1 - ft) * ratio[:, None],
    }
    frames = []
    for to, arr in parts.items():
        frames.append(
            pd.DataFrame(
                {
                    "region": np.repeat(np.array(regions, dtype=object), yrs.size),
                    "product": "",
                    "year": np.tile(yrs, len(regions)),
                    "from_stage": "generated",
                    "to_stage": to,
                    "share": arr.ravel(),
                    "source": np.repeat(
                        src.xs(to, level="to_stage").reindex(list(regions)).to_numpy(object),
                        yrs.size,
                    )
                    + "; formal rate x h(year) "
                    "(ewaste_tracker.defaults.fates.formal_rate_history)",
                }
            )
        )
    # rich collection_informal: export share recalibrated, the other shares rescaled
    exp = cal[(cal["from_stage"] == "collection_informal") & (cal["to_stage"] == "export")]
    x = key.merge(
        exp[["income_group", "share", "source"]], on="income_group", how="left"
    ).set_index("region")
    x["share"] = pd.to_numeric(x["share"], errors="coerce").astype(float)
    down = base[base["from_stage"] != "generated"].copy()
    down["share"] = down["share"].astype(float)
    ci = (down["from_stage"] == "collection_informal") & down["region"].map(x["share"]).notna()
    if ci.any():  # no richer region in the run: nothing to recalibrate
        xs = down.loc[ci, "region"].map(x["share"])
        is_exp = down.loc[ci, "to_stage"] == "export"
        old_exp = down.loc[ci & (down["to_stage"] == "export")].set_index("region")["share"]
        scale = (1 - xs) / (1 - down.loc[ci, "region"].map(old_exp))
        down.loc[ci, "share"] = np.where(is_exp, xs, down.loc[ci, "share"] * scale)
        down.loc[ci & (down["to_stage"] == "export"), "source"] = down.loc[
            ci & (down["to_stage"] == "export"), "region"
        ].map(x["source"])
    down["year"] = pd.NA
    down["product"] = ""
    out = pd.concat(
        [*frames, down[["region", "product", "year", "from_stage", "to_stage", "share", "source"]]],
        ignore_index=True,
    )
    out["year"] = out["year"].astype("Int64")
    return out


#: Share of uncontrolled e-waste shipments declared (and used) as second-hand equipment:
#: the Global E-waste Monitor 2024 gives 33-70 %; the default takes the low end.
USED_SHARE_OF_EXPORTS = 1 / 3
#: Destinations of the default exports: the most populous low- and lower-middle-income
#: countries (the Monitor's and the Global Transboundary E-waste Flows Monitor 2022's
#: receiving regions are West Africa and South and South-East Asia).
EXPORT_DESTINATIONS = 12


def default_exports(regions: Sequence[str]) -> pd.DataFrame:
    """Default export destinations of every region (named assumption ``default_exports``).

    Exports leave richer countries (high and upper-middle income, the origins the calibration
    of :func:`default_transfer_coefficients` gives an export share) for the
    :data:`EXPORT_DESTINATIONS` most populous low- and lower-middle-income countries among
    ``regions``, in proportion to their 2019 population; :data:`USED_SHARE_OF_EXPORTS` of each
    shipment enters the destination's ``use`` stage as second-hand equipment and the rest its
    ``recycling_informal`` stage (Baldé et al. 2024, *Global E-waste Monitor 2024*: 33-70 % of
    uncontrolled shipments are declared as used goods; Baldé et al. 2022, *Global Transboundary
    E-waste Flows Monitor 2022*: 5.1 Mt crossed borders in 2019, 3.3 Mt uncontrolled, mainly
    to middle- and low-income countries). Other regions ship any export to ``ROW``.

    Parameters
    ----------
    regions
        ISO3 codes of the run.

    Returns
    -------
    pandas.DataFrame
        ``origin, destination, to_stage, share`` for
        :class:`ewaste_tracker.flows.transfer.ExportDestinations`.
    """
    info = catalog.countries().set_index("iso3").reindex(list(regions))
    income = info["income_group"].fillna("")
    poor = info[income.isin(["Low income", "Lower middle income"])]
    dest = poor["population"].astype(float).nlargest(EXPORT_DESTINATIONS)
    weight = (dest / dest.sum()).to_numpy()
    origins = [r for r in regions if income.get(r, "") in ("High income", "Upper middle income")]
    others = [r for r in regions if r not in set(origins)]
    stages = (("use", USED_SHARE_OF_EXPORTS), ("recycling_informal", 1 - USED_SHARE_OF_EXPORTS))
    n_o, n_d = len(origins), len(dest)
    rows = pd.DataFrame(
        {
            "origin": np.repeat(origins, n_d * 2),
            "destination": np.tile(np.repeat(dest.index.to_numpy(), 2), n_o),
            "to_stage": np.tile([s for s, _ in stages], n_o * n_d),
            "share": np.tile(np.repeat(weight, 2) * np.tile([w for _, w in stages], n_d), n_o),
        }
    )
    row = pd.DataFrame({"origin": others, "destination": "ROW", "to_stage": "", "share": 1.0})
    return pd.concat([rows, row], ignore_index=True)
