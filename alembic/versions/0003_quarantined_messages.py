"""quarantined_messages: records the recorder set aside instead of retrying forever

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import metrics.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quarantined_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_msg_id", sa.String(length=128), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", metrics.models.UTCDateTime(), nullable=True),
        sa.Column("quarantined_at", metrics.models.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_messages")),
    )
    with op.batch_alter_table("quarantined_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quarantined_messages_platform_msg", ["platform", "platform_msg_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("quarantined_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantined_messages_platform_msg")
    op.drop_table("quarantined_messages")
