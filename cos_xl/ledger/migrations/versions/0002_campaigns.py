"""The campaign of each period (settings, regions issued, key fingerprint) and the key
fingerprint of each submission.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("period", sa.String(6), nullable=False),
        sa.Column("campaign", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("key_fingerprint", sa.String(16), nullable=False),
        sa.Column("dev_key", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("period", name="pk_campaigns"),
    )
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("key_fingerprint", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("key_fingerprint")
    op.drop_table("campaigns")
