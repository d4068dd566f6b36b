"""The ``generated`` subcommand: the sales-lifespan contract and its error handling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import weibull_min

from ewaste_tracker.cli import main

PHONE = "product,distribution,shape,scale\n0306,weibull,1.56,6.26\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _pom(path: Path, rows: list[tuple[str, str, int, float]]) -> Path:
    frame = pd.DataFrame(rows, columns=["region", "product", "year", "pom_t"])
    frame.to_csv(path, index=False)
    return path


def test_generated_matches_the_unu_formula(tmp_path: Path) -> None:
    pom = _pom(tmp_path / "pom.csv", [("KEN", "0306", 2010 + i, 100.0 + 10 * i) for i in range(5)])
    lt = _write(tmp_path / "lt.csv", PHONE)
    out = tmp_path / "out.csv"
    assert main(["generated", "--pom", str(pom), "--lifetimes", str(lt), "--out", str(out)]) == 0
    got = pd.read_csv(out, dtype={"product": str})
    assert list(got.columns) == ["region", "product", "year", "generated_t", "stock_t"]
    assert got["year"].tolist() == list(range(2010, 2015))
    inflow = 100.0 + 10 * np.arange(5)
    f = weibull_min(1.56, scale=6.26).pdf
    expected = [sum(inflow[t] * f(n - t + 0.5) for t in range(n + 1)) for n in range(5)]
    np.testing.assert_allclose(got["generated_t"], expected, rtol=1e-9)
    np.testing.assert_allclose(got["stock_t"], np.cumsum(inflow) - np.cumsum(expected), rtol=1e-9)


def test_until_extends_past_the_last_pom_year(tmp_path: Path) -> None:
    pom = _pom(tmp_path / "pom.csv", [("KEN", "0306", 2010, 100.0), ("UGA", "0306", 2011, 5.0)])
    lt = _write(tmp_path / "lt.csv", PHONE)
    out = tmp_path / "out.csv"
    args = ["generated", "--pom", str(pom), "--lifetimes", str(lt), "--out", str(out)]
    assert main([*args, "--until", "2030"]) == 0
    got = pd.read_csv(out)
    assert sorted(got["region"].unique()) == ["KEN", "UGA"]
    assert got.groupby("region")["year"].agg(["min", "max"]).to_dict("list") == {
        "min": [2010, 2010],
        "max": [2030, 2030],
    }
    ken = got[got["region"] == "KEN"]
    # a single cohort: discarded so far + still in use = what was put on market
    # (to the 10 significant digits the CSV keeps)
    np.testing.assert_allclose(ken["generated_t"].cumsum() + ken["stock_t"], 100.0, rtol=1e-8)
    assert ken.set_index("year").loc[2025, "generated_t"] > 0  # discards go on after POM stops


def test_region_specific_lifetimes_apply_to_that_region_only(tmp_path: Path) -> None:
    pom = _pom(tmp_path / "pom.csv", [("KEN", "0306", 2010, 100.0), ("NLD", "0306", 2010, 100.0)])
    lt = _write(
        tmp_path / "lt.csv",
        "product,distribution,shape,scale,region\n0306,weibull,1.56,6.26,\n0306,fixed,,2,NLD\n",
    )
    out = tmp_path / "out.csv"
    args = ["generated", "--pom", str(pom), "--lifetimes", str(lt), "--out", str(out)]
    assert main([*args, "--until", "2014"]) == 0
    got = pd.read_csv(out).set_index(["region", "year"])["generated_t"]
    assert got[("NLD", 2012)] == pytest.approx(100.0)
    assert got[("KEN", 2010)] == pytest.approx(100.0 * weibull_min(1.56, scale=6.26).pdf(0.5))


BAD_CASES = [
    ("missing column", "region,product,year\nKEN,0306,2010\n", PHONE, "pom.csv", "pom_t"),
    ("negative mass", "region,product,year,pom_t\nKEN,0306,2010,-5\n", PHONE, "row 2", "pom_t"),
    ("not a number", "region,product,year,pom_t\nKEN,0306,2010,lots\n", PHONE, "row 2", "pom_t"),
    ("bad year", "region,product,year,pom_t\nKEN,0306,20x0,5\n", PHONE, "row 2", "year"),
    ("duplicate key", "region,product,year,pom_t\nKEN,0306,2010,5\nKEN,0306,2010,6\n", PHONE,
     "row 3", "duplicate"),
    ("unknown product", "region,product,year,pom_t\nKEN,0999,2010,5\n", PHONE, "row 2", "0999"),
    ("bad distribution", "region,product,year,pom_t\nKEN,0306,2010,5\n",
     "product,distribution,shape,scale\n0306,gamma,1,2\n", "lt.csv", "distribution"),
    ("zero scale", "region,product,year,pom_t\nKEN,0306,2010,5\n",
     "product,distribution,shape,scale\n0306,weibull,1.5,0\n", "lt.csv", "scale"),
    ("negative shape", "region,product,year,pom_t\nKEN,0306,2010,5\n",
     "product,distribution,shape,scale\n0306,weibull,-1,5\n", "row 2", "shape"),
    ("unknown region in lifetimes", "region,product,year,pom_t\nKEN,0306,2010,5\n",
     "product,distribution,shape,scale,region\n0306,weibull,1.5,5,XXX\n", "lt.csv", "XXX"),
    ("duplicate lifetime", "region,product,year,pom_t\nKEN,0306,2010,5\n",
     PHONE + "0306,weibull,2,5\n", "row 3", "duplicate"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "pom", "lt", "where", "what"), BAD_CASES,
                         ids=[c[0] for c in BAD_CASES])  # fmt: skip
def test_bad_input_exits_2_names_the_place_and_writes_nothing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    pom: str,
    lt: str,
    where: str,
    what: str,
) -> None:
    p = _write(tmp_path / "pom.csv", pom)
    q = _write(tmp_path / "lt.csv", lt)
    out = tmp_path / "out" / "generated.csv"
    code = main(["generated", "--pom", str(p), "--lifetimes", str(q), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert where in err and what in err, err
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = _write(tmp_path / "lt.csv", PHONE)
    code = main(["generated", "--pom", str(tmp_path / "nope.csv"), "--lifetimes", str(q),
                 "--out", str(tmp_path / "o.csv")])  # fmt: skip
    assert code == 2
    assert "nope.csv" in capsys.readouterr().err


def test_console_script_and_module_entry_points_have_help(capsys) -> None:
    # the module entry point once in a fresh process; every subcommand's help in this one
    done = subprocess.run([sys.executable, "-m", "ewaste_tracker", "run", "--help"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0 and "usage: ewaste-tracker" in done.stdout, done.stderr
    from ewaste_tracker.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for cmd in sub.choices:  # type: ignore[union-attr]
        assert main([cmd, "--help"]) == 0, cmd
        assert "usage: ewaste-tracker" in capsys.readouterr().out
