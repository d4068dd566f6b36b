"""The review workflow of submissions: states, who may move a submission, and the errors.

A submission moves through five states::

    draft ──submit──▶ submitted ──accept──▶ accepted ──publish──▶ published
                          │                     │
                          └──────reject─────────┴──▶ rejected

Only **published** submissions feed the estimate (the latest published version of each
country, :meth:`ewaste_tracker.submissions.store.Store.published_values`). A rejection needs a
reason. Nothing is ever deleted: a new file for the same country is a new version.

Three roles act on a store:

``submitter``
    belongs to one country; creates drafts and submissions for that country only, and sends
    its own drafts for review;
``reviewer``
    accepts, rejects (with a reason) and publishes submissions of any country;
``admin``
    the store's owner (on PostgreSQL the role that owns the schema; in a GeoPackage the local
    user): every action, and user and token management.

In the embedded GeoPackage the local user is the admin, and a plain ``submit`` records
``submitted → accepted → published`` by that user at once (unless a review is asked for), so
a valid file is used by the next estimate as it always was. On PostgreSQL a reviewer must
accept and publish. Every step is a row of the audit trail (who, when, what, the file's
SHA-256), written by the database itself (triggers), so plain SQL cannot skip it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ewaste_tracker.errors import InputError

__all__ = [
    "ACTIONS",
    "OPEN_STATES",
    "ROLES",
    "STATES",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "User",
    "check_action",
    "check_user_name",
    "transition",
]

STATES = ("draft", "submitted", "accepted", "rejected", "published")
"""Every state a submission can be in."""

OPEN_STATES = ("draft", "submitted", "accepted")
"""States still waiting for a decision (what `ewaste-tracker review` lists)."""

ROLES = ("submitter", "reviewer", "admin")

ACTIONS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "submit": (("draft",), "submitted", ("submitter", "admin")),
    "accept": (("submitted",), "accepted", ("reviewer", "admin")),
    "reject": (("submitted", "accepted"), "rejected", ("reviewer", "admin")),
    "publish": (("accepted",), "published", ("reviewer", "admin")),
}
"""Action → (states it starts from, state it leads to, roles allowed to take it)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class PermissionDenied(InputError):
    """The acting user may not do this (wrong role or another country)."""


class InvalidTransition(InputError):
    """The submission is not in a state the action starts from."""


class NotFound(InputError):
    """No such submission, user or run (or not visible to the acting user)."""


@dataclass(frozen=True)
class User:
    """Who acts on a store.

    Attributes
    ----------
    name
        The user's name (lower-case letters, digits and ``_``).
    role
        ``submitter``, ``reviewer`` or ``admin``.
    country
        ISO3 code a submitter reports for (``None`` for other roles).
    """

    name: str
    role: str
    country: str | None = None

    def __str__(self) -> str:
        return f"{self.name} ({self.role}{' for ' + self.country if self.country else ''})"


def check_user_name(name: str) -> str:
    """Return ``name`` if it is a valid user name, else raise :class:`InputError`."""
    if not _NAME.match(name or ""):
        raise InputError(
            "not a valid user name", column="name", value=name,
            expected="1-40 lower-case letters, digits or _, starting with a letter",
        )  # fmt: skip
    return name


def check_submit(user: User, country: str, *, file_name: str) -> None:
    """Raise :class:`PermissionDenied` unless ``user`` may submit data for ``country``."""
    if user.role == "reviewer":
        raise PermissionDenied(
            f"user {user.name!r} is a reviewer; reviewers do not submit data", path=file_name
        )
    if user.role not in ("submitter", "admin"):
        raise PermissionDenied(f"{user.name!r} is not a user of this store", path=file_name)
    if user.role == "submitter" and country != user.country:
        raise PermissionDenied(
            f"user {user.name!r} may submit data for {user.country} only",
            path=file_name, column="country", value=country, expected=user.country,
        )  # fmt: skip


def check_action(user: User, action: str, *, country: str, state: str, sid: int) -> str:
    """Check that ``user`` may take ``action`` on a submission; return the state it leads to.

    Raises
    ------
    PermissionDenied
        The user's role may not take the action, or a submitter acts on another country.
    InvalidTransition
        The submission is not in a state the action starts from.
    """
    if action not in ACTIONS:
        raise InputError("unknown action", column="action", value=action,
                         expected=", ".join(ACTIONS))  # fmt: skip
    sources, target, roles = ACTIONS[action]
    if user.role not in roles:
        raise PermissionDenied(
            f"user {user.name!r} ({user.role}) may not {action} submissions",
            expected=" or ".join(roles),
        )
    if user.role == "submitter" and country != user.country:
        raise PermissionDenied(
            f"user {user.name!r} may act on submissions of {user.country} only",
            column="country", value=country, expected=user.country,
        )  # fmt: skip
    if state not in sources:
        raise InvalidTransition(
            f"submission {sid} is {state}; only a submission that is "
            f"{' or '.join(sources)} can be {target}",
            column="state", value=state,
        )  # fmt: skip
    return target


def transition(action: str) -> tuple[tuple[str, ...], str]:
    """``(from_states, to_state)`` of an action."""
    sources, target, _ = ACTIONS[action]
    return sources, target
