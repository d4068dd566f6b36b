"""The HTTP API for national submissions: what a ministry's system or script talks to.

``create_app(store)`` builds a FastAPI application over a store (a ``postgresql://`` URL for
a shared server, or a GeoPackage); ``ewaste-tracker serve`` runs it with uvicorn on
127.0.0.1. Its OpenAPI description is served at ``/openapi.json``.

* **Authentication**: ``Authorization: Bearer <token>`` with a token made by
  ``ewaste-tracker token create USER``; every request then acts as that user (on PostgreSQL
  under the user's database role, so row-level security applies).
* **Submitting**: ``POST /v1/submissions?file_name=KEN_2023.csv`` with the file's bytes as the
  body (CSV or Excel, at most ``max_bytes``; larger bodies get 413 before being read whole).
  The file goes through the same validation as ``ewaste-tracker submit``
  (:func:`ewaste_tracker.submissions.submit.read_submission`) and a bad file gets 422 with the
  same messages, each naming the file, row, column, value and what was expected. Sending the
  same file again (a retry) returns the submission already stored (200, ``new: false``)
  instead of creating another (201).
* **Review**: ``POST /v1/submissions/{id}/{submit|accept|reject|publish}``; reading
  submissions, their values, what is published and the audit trail (each user sees what
  their role allows).

Errors: 401 no or bad token, 403 not allowed (role or country), 404 not found (or not
visible), 409 not allowed in the submission's state, 413 too large, 422 bad input.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ewaste_tracker import __version__
from ewaste_tracker.api.models import (
    AuditOut,
    ErrorItem,
    ErrorOut,
    ReasonIn,
    SubmissionOut,
    UserOut,
)
from ewaste_tracker.errors import InputError, InputErrors
from ewaste_tracker.submissions.rules import Codes
from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.workflow import (
    InvalidTransition,
    NotFound,
    PermissionDenied,
    User,
)

__all__ = ["DEFAULT_MAX_BYTES", "app_from_environment", "create_app"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Largest submission body accepted (20 MiB: a full UNU-KEY workbook is well under 1 MiB)."""

_FILE_TYPES = {
    "text/csv": "a CSV file in the long layout",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
    "application/octet-stream": "either, by the file name's ending",
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing, unknown or revoked token"},
    403: {"model": ErrorOut, "description": "not allowed for this user (role or country)"},
    404: {"model": ErrorOut, "description": "no such submission (or not visible)"},
    422: {"model": ErrorOut, "description": "bad input: every problem, located"},
}


class _TooLarge(Exception):
    pass


class _Located(Exception):
    """A validation error of an uploaded file; ``prefix`` is the upload folder to hide."""

    def __init__(self, exc: InputError, prefix: str) -> None:
        self.exc, self.prefix = exc, prefix


def _status(exc: InputError) -> int:
    if isinstance(exc, PermissionDenied):
        return 401 if "token" in exc.reason else 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidTransition):
        return 409
    return 422


def _item(e: InputError, prefix: str) -> ErrorItem:
    return ErrorItem(
        message=str(e).replace(prefix, ""),
        file=None if e.path is None else e.path.replace(prefix, ""),
        row=e.row,
        column=e.column,
        value=None if e.value is None else str(e.value),
        expected=e.expected,
    )


def _body(exc: InputError, prefix: str = "\0") -> dict[str, Any]:
    items = exc.errors if isinstance(exc, InputErrors) else [exc]
    return ErrorOut(
        detail=str(exc).replace(prefix, ""), errors=[_item(e, prefix) for e in items]
    ).model_dump()


_bearer = HTTPBearer(auto_error=False, description="a token from 'ewaste-tracker token create'")


def current_user(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    """The user of the request's bearer token (401 without a valid one)."""
    if creds is None or creds.scheme.lower() != "bearer":
        raise PermissionDenied("missing token: send 'Authorization: Bearer <token>'")
    store: Store = request.app.state.store
    return store.authenticate(creds.credentials)


Me = Annotated[User, Depends(current_user)]


def _safe_name(name: str) -> str:
    """The bare file name the client gave (no folders), or an error."""
    base = Path(name.replace("\\", "/")).name.strip()
    if not base or base in (".", "..") or "\0" in base or len(base) > 200:
        raise InputError("not a file name", column="file_name", value=name,
                         expected="a name such as KEN_2023.csv or KEN_2023.xlsx")  # fmt: skip
    return base


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v))
         for k, v in row.items()}
        for row in df.to_dict("records")
    ]  # fmt: skip


def create_app(
    store: str | Path | Store | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    codes: Codes | None = None,
    years: tuple[int, int] | None = None,
) -> FastAPI:
    """The API over ``store``.

    Parameters
    ----------
    store
        The store (URL, path or :class:`~ewaste_tracker.submissions.store.Store`; default
        :func:`ewaste_tracker.settings.store_target`); the API connects as its admin and acts
        as each request's user.
    max_bytes
        Largest submission accepted (bytes).
    codes, years
        Accepted codes and years, as in
        :func:`~ewaste_tracker.submissions.submit.read_submission` (default the catalogue's).
    """
    from ewaste_tracker.submissions.submit import read_submission

    base = store if isinstance(store, Store) else Store(store)
    codes = Codes.from_catalog() if codes is None else codes
    app = FastAPI(
        title="ewaste-tracker submissions API",
        version=__version__,
        description=(__doc__ or "").split("\n\n", 1)[1],
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = base

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        code = _status(exc)
        headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
        return JSONResponse(_body(exc), status_code=code, headers=headers)

    def as_user(user: User) -> Store:
        return base.as_user(user.name)

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, str]:
        """The service runs (no token needed)."""
        return {"status": "ok", "store": base.kind, "version": __version__}

    @app.get("/v1/me", response_model=UserOut, responses=_ERRORS, tags=["service"])
    def me(user: Me) -> UserOut:
        """Who the token belongs to."""
        return UserOut(name=user.name, role=user.role, country=user.country)

    def store_file(content: bytes, name: str, user: User, draft: bool) -> SubmissionOut:
        if user.country is not None:  # a retry by a submitter is answered before validating
            known = as_user(user).find_submission(user.country, hashlib.sha256(content).hexdigest())
            if known is not None:
                return SubmissionOut(**known.to_dict())
        folder = Path(tempfile.mkdtemp(prefix="ewt-upload-"))
        prefix = str(folder) + "/"
        try:
            path = folder / name
            path.write_bytes(content)
            try:
                accepted, warnings = read_submission(path, codes=codes, years=years)
            except InputError as exc:
                raise _Located(exc, prefix) from None
            rec = as_user(user).add_submission(
                accepted, content=content, file_name=name, draft=draft,
                warnings=[str(w).replace(prefix, "") for w in warnings],
            )  # fmt: skip
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return SubmissionOut(**rec.to_dict())

    @app.exception_handler(_Located)
    async def _located(request: Request, exc: _Located) -> JSONResponse:
        return JSONResponse(_body(exc.exc, exc.prefix), status_code=_status(exc.exc))

    @app.post(
        "/v1/submissions",
        status_code=201,
        response_model=SubmissionOut,
        tags=["submissions"],
        responses={
            **_ERRORS,
            200: {"model": SubmissionOut, "description": "this file was already stored"},
            413: {"model": ErrorOut, "description": f"larger than {max_bytes} bytes"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "the submission file's bytes (CSV or Excel)",
                "content": {
                    t: {"schema": {"type": "string", "format": "binary", "description": what}}
                    for t, what in _FILE_TYPES.items()
                },
            }
        },
    )
    async def create_submission(
        request: Request,
        user: Me,
        file_name: Annotated[
            str, Query(description="the file's name: .csv or .xlsx, e.g. KEN_2023.csv")
        ],
        draft: Annotated[bool, Query(description="keep as a draft, not yet sent")] = False,
    ) -> JSONResponse:
        """Validate a submission file and store it as the country's next version.

        A submitter may send data for its own country only. The same file sent again returns
        the submission already stored (200) instead of a new one (201), without validating it
        again.
        """
        name = _safe_name(file_name)
        declared = request.headers.get("content-length")
        try:
            if declared is not None and int(declared) > max_bytes:
                raise _TooLarge
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_bytes:
                    raise _TooLarge
        except _TooLarge:
            err = InputError("file too large", path=name, value=declared or "more",
                             expected=f"at most {max_bytes} bytes")  # fmt: skip
            return JSONResponse(_body(err), status_code=413, headers={"Connection": "close"})
        except ValueError:
            raise InputError("bad Content-Length", value=declared) from None
        rec = await run_in_threadpool(store_file, bytes(body), name, user, draft)
        return JSONResponse(rec.model_dump(), status_code=201 if rec.new else 200)

    @app.get("/v1/submissions", response_model=list[SubmissionOut], responses=_ERRORS,
             tags=["submissions"])  # fmt: skip
    def list_submissions(
        user: Me,
        country: Annotated[str | None, Query(description="ISO3 code")] = None,
        state: Annotated[str | None, Query(description="one state only")] = None,
    ) -> list[SubmissionOut]:
        """The submissions this user may see, oldest first."""
        df = as_user(user).submissions(country, state=state)
        out = []
        for r in _records(df):
            r["warnings"] = json.loads(r["warnings"])
            r.pop("product_level", None)
            out.append(SubmissionOut(**r, new=False))
        return out

    @app.get("/v1/submissions/{submission_id}", response_model=SubmissionOut, responses=_ERRORS,
             tags=["submissions"])  # fmt: skip
    def get_submission(submission_id: int, user: Me) -> SubmissionOut:
        """One submission."""
        return SubmissionOut(**as_user(user).submission(submission_id).to_dict())

    @app.get("/v1/submissions/{submission_id}/values", responses=_ERRORS, tags=["submissions"])
    def get_values(submission_id: int, user: Me) -> list[dict[str, Any]]:
        """The values of one submission (tonnes and as reported)."""
        st = as_user(user)
        rec = st.submission(submission_id)
        return _records(st.submission_values(rec.country, rec.version))

    @app.post(
        "/v1/submissions/{submission_id}/{action}",
        response_model=SubmissionOut,
        tags=["review"],
        responses={**_ERRORS, 409: {"model": ErrorOut, "description": "not in this state"}},
    )
    def act(
        submission_id: int,
        action: Literal["submit", "accept", "reject", "publish"],
        user: Me,
        body: ReasonIn | None = None,
    ) -> SubmissionOut:
        """Move a submission on: ``submit`` a draft (its submitter), ``accept``, ``reject``
        (with a reason) or ``publish`` (a reviewer). Only published data feeds the estimate."""
        reason = None if body is None else body.reason
        rec = as_user(user).act(submission_id, action, reason=reason)
        return SubmissionOut(**rec.to_dict())

    @app.get("/v1/published", responses=_ERRORS, tags=["submissions"])
    def published(user: Me) -> list[dict[str, Any]]:
        """The values the estimate uses: the latest published submission of each country."""
        return _records(as_user(user).published_values())

    @app.get("/v1/audit", response_model=list[AuditOut], responses=_ERRORS, tags=["review"])
    def audit(
        user: Me,
        country: Annotated[str | None, Query(description="ISO3 code")] = None,
        submission_id: Annotated[int | None, Query()] = None,
    ) -> list[AuditOut]:
        """The audit trail this user may see (a submitter: its own country)."""
        df = as_user(user).audit(country, submission_id)
        return [AuditOut.from_row(r) for r in _records(df)]

    return app


def app_from_environment() -> FastAPI:
    """The API over ``$EWASTE_TRACKER_STORE`` (for uvicorn's worker processes, ``factory=True``).

    ``$EWASTE_TRACKER_API_MAX_BYTES`` sets the size limit (default :data:`DEFAULT_MAX_BYTES`).
    """
    import os

    limit = int(os.environ.get("EWASTE_TRACKER_API_MAX_BYTES", DEFAULT_MAX_BYTES))
    return create_app(None, max_bytes=limit)
