"""Piece counts of the default model against published world unit sales (issue 12)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ewaste_tracker import catalog
from ewaste_tracker.defaults.pom import SHARES_FILE, ProductShares, default_run
from ewaste_tracker.defaults.units import (
    anchored_shares,
    category_targets,
    pieces_check,
    unit_sales,
    world_pieces,
)

# Phones and desktops are anchored by their shares, exactly; the screens through the fit's
# put-on-market target, which trades off against GEM 2020's 2019 screens share.
FIT_TOLERANCE = {"0306": 0.02, "0302": 0.02, "0303": 0.10, "0309": 0.10, "0408": 0.10}


@pytest.fixture(scope="module")
def run():
    return default_run(range(1970, 2031))


@pytest.fixture(scope="module")
def check(run):
    return pieces_check(run)


def test_every_unit_figure_has_a_source_and_a_role():
    units = unit_sales()
    assert units["source"].str.len().min() > 20
    assert set(units["role"]) == {"fit", "held_out"}
    assert set(units.loc[units["role"] == "fit", "year"]) == {2019}


@pytest.mark.parametrize("key", sorted(FIT_TOLERANCE))
def test_world_pieces_2019_match_unit_sales(check, key):
    row = check[(check["unu_key"] == key) & (check["year"] == 2019)].iloc[0]
    assert row["model"] == pytest.approx(row["units"], rel=FIT_TOLERANCE[key])


def test_held_out_years_within_a_factor_1_7(check):
    # 2015 and 2022 are not used by any fit. Before the anchoring phones were 2.2x (2015) and
    # 4x (2022) the published figures; now the worst are desktops, 0.61x and 1.58x: the common
    # growth trend of the model against saturated PC and phone markets (README).
    held = check[check["role"] == "held_out"]
    assert len(held) >= 8
    assert held["ratio"].between(1 / 1.7, 1.7).all(), held.to_string()


def test_anchoring_keeps_category_masses_and_meets_new_figures(run, tmp_path):
    table = pd.read_csv(catalog.data_path(SHARES_FILE), dtype=str, keep_default_na=False)
    units = unit_sales()
    fit = units[units["role"] == "fit"].copy()
    fit.loc[fit["unu_key"] == "0306", "units"] *= 1.5  # a different market: 50 % more phones
    out = anchored_shares(table, run, fit)
    path = tmp_path / "shares.csv"
    out.to_csv(path, index=False)
    shares = ProductShares.from_csv(path)  # validates: every category sums to 1
    assert (shares.share >= 0).all()
    new = default_run(range(1970, 2031), shares=shares)
    n = int(np.flatnonzero(run.dims.years == 2019)[0])
    cat = shares.category

    def masses(r):
        return pd.Series(r.pom[:, :, n].sum(axis=0)).groupby(cat).sum()

    # shares are written with 6 significant digits
    pd.testing.assert_series_equal(masses(new), masses(run), rtol=1e-5)
    pieces = world_pieces(new, [2019])
    target = float(fit.loc[fit["unu_key"] == "0306", "units"].iloc[0])
    assert pieces.at["0306", 2019] == pytest.approx(target, rel=1e-5)
    # the rest of small IT keeps its proportions
    before = world_pieces(run, [2019])
    ratio = (
        pieces.loc[["0301", "0304", "0305", "0702"], 2019]
        / before.loc[["0301", "0304", "0305", "0702"], 2019]
    )
    assert np.allclose(ratio, ratio.iloc[0], rtol=1e-5) and ratio.iloc[0] < 1


def test_screens_target_is_units_times_weights():
    rows = category_targets()
    assert list(rows["scope"]) == ["0303+0309+0408"]
    units = unit_sales().query("role == 'fit'").set_index("unu_key")["units"]
    weight = catalog.products().set_index("unu_key")["unit_weight_kg"].astype(float)
    expected = sum(units[k] * weight[k] for k in ("0303", "0309", "0408")) / 1e9
    assert rows["value"].iloc[0] == pytest.approx(expected)


def test_a_bad_unit_sales_file_names_line_and_column(tmp_path, monkeypatch):
    import shutil

    from ewaste_tracker.defaults.pom import DefaultsError

    for name in ("products.csv", "unit_sales.csv"):
        shutil.copy(catalog.data_path(name), tmp_path / name)
    text = (tmp_path / "unit_sales.csv").read_text().splitlines()
    text[2] = text[2].replace("0302,2019,90000000", "0302,2019,-5")
    (tmp_path / "unit_sales.csv").write_text("\n".join(text) + "\n")
    monkeypatch.setattr(catalog, "data_path", lambda name: tmp_path / name)
    with pytest.raises(DefaultsError, match=r"line 3, column 'units'"):
        unit_sales()
