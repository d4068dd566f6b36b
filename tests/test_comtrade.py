"""Reading user trade tables in the UN Comtrade export format (the boundary validates them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ewaste_tracker.errors import InputError
from ewaste_tracker.model.comtrade import exports_from_comtrade

DATA = Path(__file__).parent / "data" / "comtrade"
REGIONS = ["NLD", "BEL", "DEU", "GHA"]


def test_hs_8549_exports_become_destination_shares() -> None:
    out = exports_from_comtrade(DATA / "nld_exports_2022.csv", regions=REGIONS,
                                used_codes=["847130"])  # fmt: skip
    got = out.set_index(["destination", "to_stage"])["share"]
    total = 3.0 + 1.5 + 0.5 + 0.5  # Mt-scale kg rows: BEL, DEU, GHA laptops, unknown partner
    assert got[("BEL", "recycling_informal")] == pytest.approx(3.0 / total)
    assert got[("DEU", "recycling_informal")] == pytest.approx(1.5 / total)
    assert got[("GHA", "use")] == pytest.approx(0.5 / total)  # used laptops, not e-waste
    assert got[("ROW", "")] == pytest.approx(0.5 / total)  # partner outside the run
    assert np.isclose(out.groupby("origin")["share"].sum(), 1.0).all()
    assert set(out["origin"]) == {"NLD"}  # imports and the world aggregate are skipped


def test_missing_column_and_bad_weight_are_named(tmp_path: Path) -> None:
    src = (DATA / "nld_exports_2022.csv").read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([src[0].replace("netWgt", "weight"), *src[1:]]))
    with pytest.raises(InputError, match="column 'netWgt'"):
        exports_from_comtrade(bad, regions=REGIONS)
    rows = list(src)
    rows[2] = rows[2].replace("3000000", "three")
    bad.write_text("\n".join(rows))
    with pytest.raises(InputError, match="row 3, column 'netWgt'"):
        exports_from_comtrade(bad, regions=REGIONS)


def test_unknown_reporter_is_refused() -> None:
    with pytest.raises(InputError, match="reporter is not a modelled region"):
        exports_from_comtrade(DATA / "nld_exports_2022.csv", regions=["BEL", "DEU"])
