"""pseudonym salt for opted-out accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:30:00

Each database gets its own random salt, so pseudonyms computed for one database
say nothing about another and no table of precomputed pseudonyms can exist.
"""

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import metrics.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "pseudonym_salt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", metrics.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pseudonym_salt")),
    )
    op.bulk_insert(
        table, [{"id": 1, "salt": secrets.token_hex(32), "created_at": datetime.now(UTC)}]
    )


def downgrade() -> None:
    op.drop_table("pseudonym_salt")
