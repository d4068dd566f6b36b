"""The ``serve`` subcommand: the HTTP API for submissions (:mod:`ewaste_tracker.api.app`)."""

from __future__ import annotations

import logging
from pathlib import Path

from ewaste_tracker.errors import InputError

__all__ = ["serve"]

logger = logging.getLogger(__name__)


def serve(
    *,
    store: str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_bytes: int | None = None,
    workers: int = 1,
) -> int:
    """Run the API with uvicorn until interrupted; return the exit code.

    It binds to 127.0.0.1 unless told otherwise: put it behind a reverse proxy that speaks
    TLS before opening it to other machines (tokens travel in a header). Validating a file is
    CPU work in Python, so one process uses one core: ``workers`` > 1 runs that many
    processes on the same port (each with its own connection pool).
    """
    try:
        import uvicorn

        from ewaste_tracker.api.app import DEFAULT_MAX_BYTES, create_app
    except ImportError:
        raise InputError(
            "the HTTP API needs the server extra",
            expected="pip install 'ewaste-tracker[server]'",
        ) from None
    if not 0 < port < 65536:
        raise InputError("not a port", column="--port", value=port, expected="1-65535")
    if workers < 1:
        raise InputError("at least one worker", column="--workers", value=workers)
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    app = create_app(store, max_bytes=limit)
    st = app.state.store
    st.init()  # the server's store exists (with its schema) before the first request
    st.check()
    if host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s: put a TLS proxy in front; tokens travel in a header", host)
    logger.info("serving %s on http://%s:%d with %d worker(s) (OpenAPI at /openapi.json)",
                st.display, host, port, workers)  # fmt: skip
    level = logging.getLogger("ewaste_tracker").getEffectiveLevel()
    log_level = "warning" if level >= logging.WARNING else "info"
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
        return 0
    import os

    os.environ["EWASTE_TRACKER_STORE"] = str(st.target)
    os.environ["EWASTE_TRACKER_API_MAX_BYTES"] = str(limit)
    uvicorn.run("ewaste_tracker.api.app:app_from_environment", factory=True, host=host,
                port=port, workers=workers, log_level=log_level, access_log=False)  # fmt: skip
    return 0
