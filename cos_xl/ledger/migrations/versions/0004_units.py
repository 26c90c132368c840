"""One level down: the unit (municipality or organisation) of each submission, '' for a region's
own return, in the unique constraints; the units issued per period and region.

On SQLite the submissions table is rebuilt (batch mode) to change its unique constraints.
SQLite empties a table before dropping it, and with foreign keys on (a PRAGMA that cannot change
inside the migration's transaction) the receipts referring to it forbid that: they are set aside
in a temporary table while submissions is rebuilt, then put back as they were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from cos_xl.ledger.db import LedgerError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD_UNIQUE = {"version": "uq_submissions_region_code_period_version",
               "sha256": "uq_submissions_region_code_period_sha256"}
_NEW_UNIQUE = {"version": "uq_submissions_region_code_period_unit_id_version",
               "sha256": "uq_submissions_region_code_period_unit_id_sha256"}


def _submissions(unit_id: bool) -> sa.Table:
    """The submissions table as it is before (``unit_id`` False) or after this revision: what
    batch mode copies on SQLite, instead of reflecting it (which may lose a CHECK constraint or
    the WHERE of a partial index)."""
    keys = ["region_code", "period", *(["unit_id"] if unit_id else [])]
    names = _NEW_UNIQUE if unit_id else _OLD_UNIQUE
    return sa.Table(
        "submissions", sa.MetaData(),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region_code", sa.String(2), nullable=True),
        sa.Column("period", sa.String(6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("form_id", sa.String(64), nullable=False),
        sa.Column("form_version", sa.String(32), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey(
            "blobs.sha256", name="fk_submissions_sha256_blobs"), nullable=False),
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
        sa.Column("key_fingerprint", sa.String(16), nullable=True),
        *([sa.Column("unit_id", sa.String(32), server_default="", nullable=False)]
          if unit_id else []),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.UniqueConstraint(*keys, "version", name=names["version"]),
        sa.UniqueConstraint(*keys, "sha256", name=names["sha256"]),
        sa.CheckConstraint("verdict IN ('PASS', 'PASS_WITH_WARNINGS', 'FAIL')",
                           name="ck_submissions_verdict"),
        sa.CheckConstraint(
            "(region_code IS NULL AND period IS NULL AND version IS NULL AND verdict = 'FAIL') OR "
            "(region_code IS NOT NULL AND period IS NOT NULL AND version >= 1)",
            name="ck_submissions_attribution"),
        sa.Index("ix_submissions_period", "period"),
        sa.Index("ix_submissions_unattributed_sha256", "sha256", unique=True,
                 sqlite_where=sa.text("region_code IS NULL"),
                 postgresql_where=sa.text("region_code IS NULL")),
    )


def _receipts_set_aside() -> None:
    op.execute("CREATE TEMPORARY TABLE _cos_xl_receipts AS SELECT * FROM receipts")
    op.drop_index("ix_receipts_submission_id", table_name="receipts")
    op.drop_table("receipts")


def _receipts_put_back() -> None:
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
    op.execute("INSERT INTO receipts (id, submission_id, filename, received_at, outcome) "
               "SELECT id, submission_id, filename, received_at, outcome FROM _cos_xl_receipts")
    op.execute("DROP TABLE _cos_xl_receipts")
    op.create_index("ix_receipts_submission_id", "receipts", ["submission_id"])


def _rebuild(add_unit: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _receipts_set_aside()
    before, after = (_OLD_UNIQUE, _NEW_UNIQUE) if add_unit else (_NEW_UNIQUE, _OLD_UNIQUE)
    keys = ["region_code", "period", *(["unit_id"] if not add_unit else [])]
    with op.batch_alter_table("submissions", copy_from=_submissions(not add_unit)) as batch:
        batch.drop_constraint(before["version"], type_="unique")
        batch.drop_constraint(before["sha256"], type_="unique")
        if add_unit:
            batch.add_column(sa.Column("unit_id", sa.String(32), server_default="",
                                       nullable=False))
            keys.append("unit_id")
        else:
            batch.drop_column("unit_id")
            keys.remove("unit_id")
        batch.create_unique_constraint(after["version"], [*keys, "version"])
        batch.create_unique_constraint(after["sha256"], [*keys, "sha256"])
    if sqlite:
        _receipts_put_back()


def upgrade() -> None:
    _rebuild(add_unit=True)
    op.create_table(
        "unit_campaigns",
        sa.Column("period", sa.String(6), nullable=False),
        sa.Column("region_code", sa.String(2), nullable=False),
        sa.Column("units", sa.JSON(), nullable=False),
        sa.Column("campaign", sa.JSON(), nullable=False),
        sa.Column("key_fingerprint", sa.String(16), nullable=False),
        sa.Column("dev_key", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("period", "region_code", name="pk_unit_campaigns"),
    )


def downgrade() -> None:
    """Back to 0003: possible only while no unit's return is stored (the region's own returns
    could not keep their version numbers apart from the units' otherwise)."""
    bind = op.get_bind()
    units = bind.execute(sa.text("SELECT COUNT(*) FROM submissions WHERE unit_id <> ''")).scalar()
    if units:
        raise LedgerError(f"В реестре есть отчёты МО/организаций ({units}): схему нельзя вернуть к "
                          "ревизии 0003 (unit returns stored; cannot downgrade)")
    op.drop_table("unit_campaigns")
    _rebuild(add_unit=False)
