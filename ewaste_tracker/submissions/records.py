"""Submissions in the store: adding them, moving them through review, reading them back.

The SQL here runs unchanged on both backends (see :mod:`ewaste_tracker.submissions.backend`).
The rules are checked twice: here in Python, for a clear message naming the file, the column
and what was expected; and in the database, by triggers (allowed state changes, frozen
content, the audit trail) and, on PostgreSQL, by row-level security (a submitter's country),
so plain SQL cannot get around them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ewaste_tracker.errors import InputError
from ewaste_tracker.submissions.backend import StoreBase, Tx, before_commit, utc_now
from ewaste_tracker.submissions.rules import ACCEPTED_COLUMNS
from ewaste_tracker.submissions.workflow import (
    STATES,
    InvalidTransition,
    NotFound,
    User,
    check_action,
    check_submit,
)

__all__ = ["STORED_COLUMNS", "SubmissionRecord", "SubmissionsMixin"]

logger = logging.getLogger(__name__)

#: Columns of an accepted submission kept per value (status and source are derived on read).
STORED_COLUMNS = tuple(c for c in ACCEPTED_COLUMNS if c not in ("status", "source"))

_RECORD_SQL = (
    "SELECT id, country, version, state, submitter, submitted_utc, file_name, sha256, "
    "n_values, first_year, last_year, warnings, reviewer, reason FROM submissions"
)
_LIST_SQL = (
    "SELECT id, country, version, state, submitter, submitted_utc, file_name, sha256, "
    "product_level, n_values, first_year, last_year, warnings, reviewer, reason FROM submissions"
)
_VALUES_SQL = (
    "SELECT v.country, v.year, v.product, v.product_level, v.indicator, v.value, v.unit, "
    "v.value_t, s.version FROM submission_values v JOIN submissions s "
    "ON v.submission_id = s.id"
)
_AUDIT_SQL = (
    "SELECT id, time_utc, actor, action, submission_id, country, version, state_from, "
    "state_to, sha256, file_name, reason FROM audit"
)


@dataclass(frozen=True)
class SubmissionRecord:
    """One stored submission (a row of the ``submissions`` table)."""

    id: int
    country: str
    version: int
    state: str
    submitter: str
    submitted_utc: str
    file_name: str
    sha256: str
    n_values: int
    first_year: int
    last_year: int
    warnings: tuple[str, ...] = ()
    reviewer: str | None = None
    reason: str | None = None
    new: bool = True

    def __str__(self) -> str:
        state = "" if self.new else " (unchanged: this file is already stored)"
        return (
            f"{self.country} version {self.version} [{self.state}]: {self.n_values} values "
            f"{self.first_year}-{self.last_year} from {self.file_name} by {self.submitter} "
            f"at {self.submitted_utc}, {len(self.warnings)} warning(s){state}"
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-ready values."""
        d = dict(self.__dict__)
        d["warnings"] = list(self.warnings)
        return d


def _plain(v: Any) -> Any:
    """Numpy scalars and missing values → plain Python for the database drivers."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    return v.item() if isinstance(v, np.generic) else v


class SubmissionsMixin(StoreBase):
    """Adding, reviewing and reading submissions (part of :class:`~.store.Store`)."""

    # -- writing --------------------------------------------------------------------------

    def add_submission(
        self,
        accepted: pd.DataFrame,
        *,
        content: bytes,
        file_name: str,
        submitter: str | None = None,
        warnings: list[str] | tuple[str, ...] = (),
        draft: bool = False,
        review: bool = False,
        again: bool = False,
    ) -> SubmissionRecord:
        """Store an accepted submission as its country's next version, in one transaction.

        The submission is created as a draft with all its values and then, unless ``draft``,
        submitted for review. When the store's local user submits to the embedded GeoPackage
        and no review is asked for, it is also accepted and published at once (every step in
        the audit trail), so the next estimate uses it.

        The same file twice is one submission: when the country already has a submission
        with the same content (SHA-256), whatever its state, nothing is written and that
        submission is returned with ``new=False``, so a retry (after a timeout, from two
        clients at once) never adds a version. ``again`` stores it as a new version anyway:
        to go back to an earlier file on purpose.

        Parameters
        ----------
        accepted
            Output of :func:`ewaste_tracker.submissions.submit.read_submission` (one country).
        content
            The file's bytes (their SHA-256 is kept).
        file_name
            Kept with the submission.
        submitter
            Who submits, when the store's admin submits on someone's behalf; a registered
            user always submits as themself.
        warnings
            Plausibility warnings kept with the submission.
        draft
            Keep it as a draft (send it later with :meth:`act` ``"submit"``).
        review
            Leave it submitted for review even where it would be published at once.
        again
            Store the file as a new version even if the country has it already.

        Raises
        ------
        PermissionDenied
            The acting user may not submit for this country.
        """
        import hashlib

        countries = accepted["country"].unique()
        if len(countries) != 1 or accepted.empty:
            raise InputError(
                "a submission must hold values for exactly one country", path=file_name
            )
        country = str(countries[0])
        sha = hashlib.sha256(content).hexdigest()
        years = accepted["year"].to_numpy(dtype=np.int64)
        vals = accepted[list(STORED_COLUMNS)].astype(object)
        with self._transaction(write=True) as tx:
            user = self._actor(tx)
            check_submit(user, country, file_name=file_name)
            self._lock_country(tx, country)
            dup = None if again else tx.one(
                "SELECT id FROM submissions WHERE country = :c AND sha256 = :sha "
                "ORDER BY version DESC",
                c=country, sha=sha,
            )  # fmt: skip
            if dup is not None:
                logger.info("%s: this file is already submission %d; nothing stored", country,
                            dup[0])  # fmt: skip
                return self._record(tx, int(dup[0]), new=False)
            last = tx.one("SELECT max(version) FROM submissions WHERE country = :c", c=country)
            version = 1 if last is None or last[0] is None else int(last[0]) + 1
            who = submitter if (user.role == "admin" and submitter) else user.name
            new = tx.one(
                "INSERT INTO submissions (country, version, state, submitter, submitted_utc, "
                "file_name, sha256, product_level, n_values, first_year, last_year, warnings, "
                "changed_by, changed_utc) VALUES (:country, :version, 'draft', :submitter, :now, "
                ":file_name, :sha, :level, :n, :first, :last, :warnings, :by, :now) RETURNING id",
                country=country, version=version, submitter=who, now=utc_now(),
                file_name=file_name, sha=sha, level=str(accepted["product_level"].iloc[0]),
                n=len(accepted), first=int(years.min()), last=int(years.max()),
                warnings=json.dumps(list(warnings)), by=user.name,
            )  # fmt: skip
            assert new is not None
            sid = int(new[0])
            rows = [(sid, *(_plain(v) for v in r)) for r in vals.itertuples(index=False)]
            tx.insert_rows("submission_values", ("submission_id", *STORED_COLUMNS), rows)
            if not draft:
                self._move(tx, user, sid, "submit")
                if not review and self._auto_publish(user):
                    self._move(tx, user, sid, "accept")
                    self._move(tx, user, sid, "publish")
            before_commit()
            record = self._record(tx, sid)
        logger.info("stored %s", record)
        return record

    def act(
        self, submission_id: int, action: str, *, reason: str | None = None
    ) -> SubmissionRecord:
        """Move a submission on: ``submit`` (a draft), ``accept``, ``reject`` or ``publish``.

        Parameters
        ----------
        submission_id
            The submission's ``id``.
        action
            See :data:`ewaste_tracker.submissions.workflow.ACTIONS`.
        reason
            Why (required to reject; kept with the submission and in the audit trail).

        Raises
        ------
        NotFound, PermissionDenied, InvalidTransition
        """
        if action == "reject" and not (reason or "").strip():
            raise InputError("a rejection needs a reason", column="reason",
                             expected="a few words the submitter can act on")  # fmt: skip
        with self._transaction(write=True) as tx:
            user = self._actor(tx)
            self._move(tx, user, int(submission_id), action, reason=reason)
            record = self._record(tx, int(submission_id))
        logger.info("%s by %s: %s", action, user.name, record)
        return record

    def _move(
        self, tx: Tx, user: User, sid: int, action: str, *, reason: str | None = None
    ) -> None:
        row = tx.one("SELECT country, state FROM submissions WHERE id = :id", id=sid)
        if row is None:
            raise NotFound("no such submission", column="id", value=sid)
        country, state = str(row[0]), str(row[1])
        target = check_action(user, action, country=country, state=state, sid=sid)
        decided = target in ("accepted", "rejected", "published")
        n = tx.run(
            "UPDATE submissions SET state = :to, changed_by = :by, changed_utc = :now, "
            "reviewer = CASE WHEN :decided = 1 THEN :by ELSE reviewer END, "
            "reason = CASE WHEN :decided = 1 THEN :reason ELSE reason END "
            "WHERE id = :id AND state = :from",
            to=target, by=user.name, now=utc_now(), decided=int(decided),
            reason=(reason or "").strip() or None, id=sid, **{"from": state},
        )  # fmt: skip
        if n != 1:  # pragma: no cover - another reviewer moved it between the two statements
            raise InvalidTransition(f"submission {sid} changed meanwhile", column="state")

    # -- reading --------------------------------------------------------------------------

    def _record(self, tx: Tx, sid: int, *, new: bool = True) -> SubmissionRecord:
        r = tx.one(_RECORD_SQL + " WHERE id = :id", id=sid)
        if r is None:
            raise NotFound("no such submission", column="id", value=sid)
        names = ("id", "country", "version", "state", "submitter", "submitted_utc",
                 "file_name", "sha256", "n_values", "first_year", "last_year")  # fmt: skip
        fields = dict(zip(names, r[:11], strict=True))
        return SubmissionRecord(
            **fields, warnings=tuple(json.loads(r[11])), reviewer=r[12], reason=r[13], new=new
        )

    def find_submission(self, country: str, sha256: str) -> SubmissionRecord | None:
        """The country's submission of a file with this SHA-256 (the latest), if any."""
        with self._transaction(write=False) as tx:
            row = tx.one(
                "SELECT id FROM submissions WHERE country = :c AND sha256 = :sha "
                "ORDER BY version DESC",
                c=country.strip().upper(), sha=sha256,
            )  # fmt: skip
            return None if row is None else self._record(tx, int(row[0]), new=False)

    def submission(self, submission_id: int) -> SubmissionRecord:
        """One submission by its ``id`` (one the acting user may see)."""
        with self._transaction(write=False) as tx:
            return self._record(tx, int(submission_id), new=False)

    def submissions(self, country: str | None = None, *, state: str | None = None) -> pd.DataFrame:
        """The ``submissions`` table (optionally one country and/or state), oldest first."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if country is not None:
            where.append("country = :c")
            params["c"] = country.strip().upper()
        if state is not None:
            if state not in STATES:
                raise InputError("unknown state", column="state", value=state,
                                 expected=", ".join(STATES))  # fmt: skip
            where.append("state = :s")
            params["s"] = state
        sql = _LIST_SQL + (" WHERE " + " AND ".join(where) if where else "")
        with self._transaction(write=False) as tx:
            return tx.frame(sql + " ORDER BY id", **params)

    def submission_values(self, country: str, version: int | None = None) -> pd.DataFrame:
        """The values of a country's submission (default: the latest version, any state).

        Columns: ``country, year, product, product_level, indicator, value, unit, value_t,
        version``, ``status`` ("reported") and ``source`` ("submission <ISO3> v<version>").
        """
        country = country.strip().upper()
        with self._transaction(write=False) as tx:
            if version is None:
                row = tx.one("SELECT max(version) FROM submissions WHERE country = :c", c=country)
                version = None if row is None or row[0] is None else int(row[0])
            df = tx.frame(
                _VALUES_SQL + " WHERE s.country = :c AND s.version = :v ORDER BY v.id",
                c=country, v=version,
            )  # fmt: skip
        if version is None or df.empty:
            raise NotFound("no such submission", column="version", value=f"{country} v{version}")
        return df.assign(status="reported", source=f"submission {country} v{version}")

    def published_values(self) -> pd.DataFrame:
        """The latest **published** submission of every country: what the estimate reads.

        Returns
        -------
        pandas.DataFrame
            ``country, year, product, product_level, indicator, value, unit, value_t,
            version, status, source`` (``source`` = "submission <ISO3> v<version>"); empty
            (with those columns) when nothing is published.
        """
        with self._transaction(write=False) as tx:
            df = tx.frame(
                _VALUES_SQL + " WHERE s.state = 'published' AND s.version = (SELECT max(p.version)"
                " FROM submissions p WHERE p.country = s.country AND p.state = 'published') "
                "ORDER BY s.country, v.id"
            )
        df["version"] = df["version"].astype("int64")
        src = "submission " + df["country"].astype(str) + " v" + df["version"].astype(str)
        return df.assign(status="reported", source=src)

    def compare_versions(self, country: str, a: int, b: int) -> pd.DataFrame:
        """Compare two versions of a country's submission value by value (tonnes).

        Returns ``year, product, indicator, value_t_a, value_t_b, diff_t`` (b − a; a missing
        side is NaN).
        """
        key = ["year", "product", "indicator"]
        va = self.submission_values(country, a)[[*key, "value_t"]]
        vb = self.submission_values(country, b)[[*key, "value_t"]]
        m = va.merge(vb, on=key, how="outer", suffixes=("_a", "_b")).sort_values(key)
        m["diff_t"] = m["value_t_b"] - m["value_t_a"]
        return m.reset_index(drop=True)

    def audit(self, country: str | None = None, submission_id: int | None = None) -> pd.DataFrame:
        """The audit trail (what the acting user may see), oldest first.

        Columns: ``id, time_utc, actor, action, submission_id, country, version, state_from,
        state_to, sha256, file_name, reason``. Actions: ``created`` (a draft), ``submit``,
        ``accept``, ``reject``, ``publish``, ``migrated``, ``user added``, ``user disabled``,
        ``token created``, ``token revoked``.
        """
        where: list[str] = []
        params: dict[str, Any] = {}
        if country is not None:
            where.append("country = :c")
            params["c"] = country.strip().upper()
        if submission_id is not None:
            where.append("submission_id = :s")
            params["s"] = int(submission_id)
        sql = _AUDIT_SQL + (" WHERE " + " AND ".join(where) if where else "")
        with self._transaction(write=False) as tx:
            df = tx.frame(sql + " ORDER BY id", **params)
        return df.astype({"submission_id": "Int64", "version": "Int64"})

    def history(self, country: str) -> pd.DataFrame:
        """Submissions and runs kept for a country, oldest first.

        Columns: ``kind`` (submission/run), ``id``, ``version`` and ``state`` (submissions),
        ``time_utc``, ``by`` (submitter, or tool version for runs), ``name`` (file name or run
        label), ``sha256`` (file content, or run fingerprint), ``n_values``, ``first_year``,
        ``last_year``.
        """
        country = country.strip().upper()
        with self._transaction(write=False) as tx:
            subs = tx.frame(
                "SELECT 'submission' AS kind, id, version, state, submitted_utc AS time_utc, "
                'submitter AS "by", file_name AS name, sha256, n_values, first_year, last_year '
                "FROM submissions WHERE country = :c",
                c=country,
            )
            runs = tx.frame(
                "SELECT 'run' AS kind, r.id, NULL AS version, NULL AS state, "
                "r.created_utc AS time_utc, "
                "'ewaste-tracker ' || r.tool_version AS \"by\", r.label AS name, "
                "r.fingerprint AS sha256, g.n_values, g.first_year, g.last_year "
                "FROM runs r JOIN run_regions g ON g.run_id = r.id WHERE g.region = :c",
                c=country,
            )
        frames = [f for f in (subs, runs) if len(f)]
        if not frames:
            return subs
        out = pd.concat(frames, ignore_index=True).sort_values(["time_utc", "kind"])
        out["version"] = out["version"].astype("Int64")
        return out[list(subs.columns)].reset_index(drop=True)
