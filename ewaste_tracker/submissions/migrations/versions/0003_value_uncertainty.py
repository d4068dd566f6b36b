"""The optional stated uncertainty of each submitted value.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

``submission_values.uncertainty_pct``: the relative standard uncertainty in percent a
submitter states for a value (blank when not stated; older rows stay blank), as in the
GeoPackage store's schema version 3. The table's grants cover the new column.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE submission_values ADD COLUMN uncertainty_pct double precision")


def downgrade() -> None:
    op.execute("ALTER TABLE submission_values DROP COLUMN uncertainty_pct")
