"""The engine's processes reuse the memory they free (settings.tune_allocator)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import numpy as np
from ewaste_tracker.settings import tune_allocator
tuned = tune_allocator()
a = np.ones(12_500_000); del a          # 100 MB, freed
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
b = np.ones(12_500_000)                 # the same size again
print(int(tuned), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


def _probe(env_value: str | None) -> tuple[bool, int]:
    env = dict(os.environ)
    env.pop("EWASTE_TRACKER_MALLOC", None)
    if env_value is not None:
        env["EWASTE_TRACKER_MALLOC"] = env_value
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True, timeout=120)  # fmt: skip
    tuned, faults = out.stdout.split()
    return tuned == "1", int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_freed_block_is_reused_without_page_faults() -> None:
    tuned, faults = _probe(None)
    if not tuned:
        pytest.skip("not glibc: nothing to tune")
    assert faults < 10  # 100 MB faulted in again would be >= 50 huge or 24,000 small pages


def test_opt_out_leaves_the_allocator_alone() -> None:
    tuned, _ = _probe("system")
    assert not tuned


HUGE_PROBE = """
import numpy as np
from ewaste_tracker.settings import tune_allocator
tuned = tune_allocator()
print(int(tuned), int(np._core.multiarray._set_madvise_hugepage(False)))  # returns the old state
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_numpy_no_longer_asks_for_huge_pages() -> None:
    # a first touch of a huge-page-advised array may stall in the kernel's direct compaction
    out = subprocess.run([sys.executable, "-c", HUGE_PROBE], capture_output=True, text=True,
                         check=True, timeout=120)  # fmt: skip
    tuned, advised = out.stdout.split()
    if tuned != "1":
        pytest.skip("not glibc: nothing to tune")
    assert advised == "0"
