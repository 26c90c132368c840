"""The first ledger schema: blobs, submissions, receipts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region_code", sa.String(2), nullable=True),
        sa.Column("period", sa.String(6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("input_values", sa.JSON(), nullable=False),
        sa.Column("explanations", sa.JSON(), nullable=False),
        sa.Column("claimed_region_code", sa.String(64), nullable=True),
        sa.Column("claimed_period", sa.String(64), nullable=True),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.ForeignKeyConstraint(["sha256"], ["blobs.sha256"],
                                name="fk_submissions_sha256_blobs"),
        sa.UniqueConstraint("region_code", "period", "version",
                            name="uq_submissions_region_code_period_version"),
        sa.UniqueConstraint("region_code", "period", "sha256",
                            name="uq_submissions_region_code_period_sha256"),
        sa.CheckConstraint("verdict IN ('PASS', 'PASS_WITH_WARNINGS', 'FAIL')",
                           name="ck_submissions_verdict"),
        sa.CheckConstraint(
            "(region_code IS NULL AND period IS NULL AND version IS NULL AND verdict = 'FAIL') OR "
            "(region_code IS NOT NULL AND period IS NOT NULL AND version >= 1)",
            name="ck_submissions_attribution"),
    )
    op.create_index("ix_submissions_period", "submissions", ["period"])
    op.create_index("ix_submissions_unattributed_sha256", "submissions", ["sha256"], unique=True,
                    sqlite_where=sa.text("region_code IS NULL"),
                    postgresql_where=sa.text("region_code IS NULL"))
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_receipts"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name="fk_receipts_submission_id_submissions"),
        sa.CheckConstraint("outcome IN ('new', 'duplicate')", name="ck_receipts_outcome"),
    )
    op.create_index("ix_receipts_submission_id", "receipts", ["submission_id"])


def downgrade() -> None:
    op.drop_table("receipts")
    op.drop_index("ix_submissions_unattributed_sha256", table_name="submissions")
    op.drop_index("ix_submissions_period", table_name="submissions")
    op.drop_table("submissions")
    op.drop_table("blobs")
