"""The API's request and response bodies (they make its OpenAPI description)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["AuditOut", "ErrorItem", "ErrorOut", "ReasonIn", "SubmissionOut", "UserOut"]


class SubmissionOut(BaseModel):
    """A stored submission."""

    id: int
    country: str = Field(description="ISO3 code")
    version: int = Field(description="1, 2, ... per country")
    state: str = Field(description="draft, submitted, accepted, rejected or published")
    submitter: str
    submitted_utc: str
    file_name: str
    sha256: str = Field(description="SHA-256 of the file's bytes")
    n_values: int
    first_year: int
    last_year: int
    warnings: list[str] = Field(default_factory=list, description="plausibility warnings")
    reviewer: str | None = None
    reason: str | None = Field(None, description="reason of the last decision")
    new: bool = Field(True, description="false when this file was already stored")


class ErrorItem(BaseModel):
    """One problem found in a file: where it is and what was expected."""

    message: str = Field(description="the same line the command line prints")
    file: str | None = Field(None, description="file name, or file:sheet for Excel")
    row: int | None = Field(None, description="row as a person counts it (header = 1)")
    column: str | None = None
    value: str | None = None
    expected: str | None = None


class ErrorOut(BaseModel):
    """An error: the message and, for a rejected file, every problem in it."""

    detail: str
    errors: list[ErrorItem] = Field(default_factory=list)


class ReasonIn(BaseModel):
    """Why a decision was taken (required to reject)."""

    reason: str | None = Field(None, max_length=2000)


class UserOut(BaseModel):
    """The authenticated user."""

    name: str
    role: str
    country: str | None = None


class AuditOut(BaseModel):
    """One row of the audit trail."""

    time_utc: str
    actor: str
    action: str
    submission_id: int | None = None
    country: str | None = None
    version: int | None = None
    state_from: str | None = None
    state_to: str | None = None
    sha256: str | None = None
    file_name: str | None = None
    reason: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AuditOut:
        """From a row of :meth:`ewaste_tracker.submissions.store.Store.audit`."""
        return cls(**{k: v for k, v in row.items() if k in cls.model_fields})
