"""Publishing a finished temporary file under its final name."""

from __future__ import annotations

import os
from pathlib import Path


def publish(tmp: str | Path, path: str | Path) -> None:
    """Give ``tmp`` ordinary file permissions and rename it to ``path`` atomically.

    ``tempfile.mkstemp`` creates files readable by their owner only; a published result gets
    the permissions a plain ``open(path, "w")`` would give (``0o666`` less the umask).
    """
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)
