"""Benchmark ``run`` end to end at scale: the world estimate and a 2,500-district study.

Workloads, each a fresh ``ewaste-tracker run`` process (imports, reading, the model, every
output file, ``datapackage.json``), timed by wall clock with the process's peak resident
memory (``ru_maxrss`` of the child) and its CPU time (user + system):

* **world**: ``run --out DIR`` (the all-country default estimate, 239 countries, totals over
  products as ``run`` writes the world), against the goal of 8 s;
* **districts**: ``run --inputs FOLDER --out DIR`` on the synthetic sub-national folder of
  :func:`ewaste_tracker.testing.districts_folder` (``--districts``, default 2,500 × 54
  UNU-KEYs × 1980-2030, product-level flows and stocks), against the goals of 60 s and 8 GB.

The peer of each is its I/O floor measured in the same run: reading the inputs and writing
the same number of output bytes (a copy of the written folder, file by file, into a fresh
folder). The ratio run / floor is printed with the machine's load average (other processes
share the 2 cores: figures taken under load are inflated).

Usage::

    .venv/bin/python benchmarks/scale.py [--districts 2500] [--skip-world]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewaste_tracker.testing import districts_folder

CLI = [sys.executable, "-m", "ewaste_tracker"]


def _run(args: list[str]) -> tuple[float, float, float]:
    """Wall time (s), CPU time (user + system, s) and peak memory (GB) of one
    ``ewaste-tracker`` process (CPU time is less inflated than wall time by other processes
    sharing the cores; it exceeds the wall time when the process keeps both cores busy)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([*CLI, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)  # the rusage of this child alone
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"ewaste-tracker {args[0]} failed with exit code {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024**2


def _floor(inputs: Path | None, written: Path, tmp: Path) -> tuple[float, int]:
    """Read every input file and copy every output file: the bytes ``run`` must move."""
    t0 = time.perf_counter()
    if inputs is not None:
        for f in sorted(inputs.iterdir()):
            f.read_bytes()
    dest = tmp / "copy"
    dest.mkdir(parents=True)
    size = 0
    for f in sorted(written.iterdir()):
        shutil.copyfile(f, dest / f.name)
        size += f.stat().st_size
    os.sync()
    return time.perf_counter() - t0, size


def _report(name: str, wall: float, cpu: float, peak: float, floor: float, size: int,
            goal: str) -> None:  # fmt: skip
    print(f"{name}: {wall:6.1f} s (CPU {cpu:.1f} s), peak {peak:4.1f} GB, "
          f"{size / 1e9:.2f} GB written; "
          f"I/O floor {floor:.1f} s; ratio run / floor {wall / floor:.1f}x ({goal})")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--districts", type=int, default=2500)
    parser.add_argument("--skip-world", action="store_true")
    args = parser.parse_args(argv)
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="ewt-scale-") as name:
        tmp = Path(name)
        store = tmp / "no-store.gpkg"
        if not args.skip_world:
            out = tmp / "world"
            wall, cpu, peak = _run(["run", "--out", str(out), "--store", str(store)])
            load.append(os.getloadavg()[0])
            floor, size = _floor(None, out, tmp / "w")
            _report("world run (239 countries, totals)", wall, cpu, peak, floor, size,
                    "goal <= 8 s")  # fmt: skip
            shutil.rmtree(out)
        folder = districts_folder(tmp / "districts", districts=args.districts)
        out = tmp / "districts-out"
        wall, cpu, peak = _run(["run", "--inputs", str(folder), "--out", str(out), "--store",
                           str(store)])  # fmt: skip
        load.append(os.getloadavg()[0])
        floor, size = _floor(folder, out, tmp / "d")
        _report(f"{args.districts:,} districts (product level)", wall, cpu, peak, floor, size,
                "goals <= 60 s, <= 8 GB")  # fmt: skip
    print(f"load average during the runs: {', '.join(f'{x:.1f}' for x in load)} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
