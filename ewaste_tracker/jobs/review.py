"""The review subcommands: ``review``, ``send``, ``accept``, ``reject``, ``publish``, ``audit``.

Each opens the store (a GeoPackage path or a ``postgresql://`` URL) as the acting user
(``--as``; default the store's local user or the connecting database role), asks the store
to do one thing and returns a short text for the terminal. The rules (who may do what, which
state changes are allowed) are the store's: :mod:`ewaste_tracker.submissions.workflow`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ewaste_tracker.submissions.store import Store
from ewaste_tracker.submissions.workflow import OPEN_STATES

__all__ = ["act_on_submission", "audit_text", "review_text", "submit_file"]

_SHOWN = ["id", "country", "version", "state", "submitter", "submitted_utc", "file_name",
          "n_values", "first_year", "last_year", "reviewer", "reason"]  # fmt: skip


def open_store(store: str | Path | None, user: str | None) -> Store:
    """The store ``store`` acting as ``user``."""
    return Store(store, user=user)


def submit_file(
    path: str | Path,
    *,
    store: str | Path | None = None,
    user: str | None = None,
    submitter: str | None = None,
    draft: bool = False,
    review: bool = False,
    again: bool = False,
    confirm_outliers: bool = False,
) -> str:
    """Validate and store a submission; return what happened, with the next step if any."""
    from ewaste_tracker.submissions.submit import submit

    st = open_store(store, user)
    rec = submit(path, store=st, submitter=submitter, draft=draft, review=review, again=again,
                 confirm_outliers=confirm_outliers)  # fmt: skip
    text = f"stored: {rec}"
    if rec.state == "draft":
        text += f"\nnext: ewaste-tracker send {rec.id} (sends it for review)"
    elif rec.state in ("submitted", "accepted"):
        text += f"\nwaiting for review: a reviewer runs 'ewaste-tracker accept {rec.id}'"
    return text


def review_text(
    *,
    store: str | Path | None = None,
    user: str | None = None,
    country: str | None = None,
    state: str | None = None,
) -> str:
    """The submissions waiting for a decision (or those in ``state``), as a table."""
    st = open_store(store, user)
    subs = st.submissions(country, state=state)
    if state is None:
        subs = subs[subs["state"].isin(OPEN_STATES)]
    if subs.empty:
        return "nothing to review" if state is None else f"no submission is {state}"
    return _table(subs[_SHOWN])


def act_on_submission(
    submission_id: int | str,
    action: str,
    *,
    store: str | Path | None = None,
    user: str | None = None,
    reason: str | None = None,
) -> str:
    """Take a review action on a submission; return its new record as text."""
    from ewaste_tracker.errors import InputError

    try:
        sid = int(submission_id)
    except ValueError:
        raise InputError("submission id is not a number", column="id",
                         value=submission_id) from None  # fmt: skip
    rec = open_store(store, user).act(sid, action, reason=reason)
    return f"{action}: {rec}" + (f" (reason: {rec.reason})" if rec.reason else "")


def audit_text(
    *,
    store: str | Path | None = None,
    user: str | None = None,
    country: str | None = None,
    submission_id: int | None = None,
) -> str:
    """The audit trail (what the acting user may see), as a table."""
    df = open_store(store, user).audit(country, submission_id)
    if df.empty:
        return "the audit trail is empty"
    return _table(df.drop(columns=["id"]))


def _table(df: pd.DataFrame) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.max_colwidth", 40):  # fmt: skip
        return df.astype(object).fillna("").to_string(index=False)
