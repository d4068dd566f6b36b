"""The built wheel, installed into a fresh virtual environment, works from any folder.

Marked slow: it builds the wheel from a clean clone of the repository (``git clone`` of the
committed tree, so files that are not committed cannot leak in), makes a new virtual
environment with only that wheel installed (its dependencies are taken from the test
environment's site-packages through a ``.pth`` line, so no network is needed and the
checkout's editable install is not seen), and runs the commands a new user would, from a
folder outside the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, **kw)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout")
    pytest.importorskip("build")
    root = tmp_path_factory.mktemp("wheel")
    clone = root / "clone"
    _run(["git", "clone", "-q", str(REPO), str(clone)], cwd=root)
    dist = root / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
          str(clone)], cwd=root)  # fmt: skip
    (wheel,) = dist.glob("ewaste_tracker-*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
             cwd=root).stdout.strip()
    )  # fmt: skip
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(purelib)  # a wheel is a zip laid out for site-packages
        names = zf.namelist()
    entry = purelib.parent.parent.parent / "bin" / "ewaste-tracker"
    entry.write_text(
        f"#!{py}\nimport sys\nfrom ewaste_tracker.cli import main\nsys.exit(main())\n",
        encoding="utf-8",
    )
    entry.chmod(0o755)
    # dependencies from the test environment, without its editable checkout
    (purelib / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    work = root / "elsewhere"
    work.mkdir()
    return env_dir, work, names  # type: ignore[return-value]


def test_wheel_holds_one_package_with_its_data(installed) -> None:
    *_, names = installed
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"ewaste_tracker"}
    for needed in ("ewaste_tracker/data/countries.csv", "ewaste_tracker/data/countries.gpkg",
                   "ewaste_tracker/data/grid/land_300s.npz", "ewaste_tracker/data/sources.csv",
                   "ewaste_tracker/maps/vendor/leaflet@1.9.3/dist/leaflet.js",
                   "ewaste_tracker/data/examples/east_africa/pom.csv",
                   "ewaste_tracker/submissions/migrations/env.py",
                   "ewaste_tracker/submissions/migrations/script.py.mako",
                   "ewaste_tracker/submissions/migrations/versions/0001_shared_store.py",
                   ):  # fmt: skip
        assert needed in names, needed


def test_installed_commands_work_from_any_folder(installed) -> None:
    env_dir, work, _ = installed
    py, cli = str(env_dir / "bin" / "python"), str(env_dir / "bin" / "ewaste-tracker")
    where = _run([py, "-c", "import ewaste_tracker, sys; print(ewaste_tracker.__file__)"], work)
    assert str(env_dir) in where.stdout and str(REPO) not in where.stdout
    version = _run([cli, "--version"], work).stdout
    assert version.startswith("ewaste-tracker ")
    env = {"EWASTE_TRACKER_STORE": str(work / "store.gpkg"), "PATH": "/usr/bin:/bin",
           "HOME": str(work)}  # fmt: skip
    _run([cli, "run", "--countries", "KEN", "--out", "X"], work, env=env)
    assert (work / "X" / "indicators.parquet").is_file()
    assert (work / "X" / "datapackage.json").is_file()
    _run([cli, "template", "--country", "KEN", "--out", "T"], work, env=env)
    assert {p.suffix for p in (work / "T").iterdir()} >= {".csv", ".xlsx"}
    code = "import ewaste_tracker as et; print(et.estimate(countries=['KEN']).indicators.head())"
    out = _run([py, "-c", code], work, env=env).stdout
    assert "KEN" in out and "region" in out and "source" in out
