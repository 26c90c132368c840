"""The ledger's tables (SQLAlchemy Core). The migrations in ``migrations/versions`` create the
same schema; a test compares the two.

* ``blobs``: the original bytes of every distinct file, once per SHA-256.
* ``submissions``: one row per stored version. A file whose manifest cannot be trusted (not a
  workbook, no manifest, a forged signature) is kept too, with ``region_code``, ``period`` and
  ``version`` NULL — "unattributed" — and verdict FAIL; what its manifest claims, if anything, is
  kept in ``claimed_region_code`` / ``claimed_period`` for the person who sorts it out.
  ``unit_id`` says whose return it is one level down: empty for a region's own return (the
  federal level), else the id of the unit (municipality or organisation, :mod:`cos_xl.units`)
  whose return the region collected. Every federal query (latest accepted, status,
  consolidation, previous figures) reads only the rows with an empty ``unit_id``. It is empty,
  not NULL, so that the unique constraints hold for the regions' own returns too.
* ``receipts``: every time a file came in, including identical bytes sent again.
* ``upload_tokens``, ``users``, ``web_sessions``: who may use the web intake (``cos-xl serve``):
  regions' upload links, federal accounts and their sessions, secrets stored hashed.
* ``campaigns``: per period, the campaign settings the templates were generated with, the
  regions issued a template and the fingerprint of the signing key (``cos-xl generate --db``,
  ``cos-xl campaign register``), so that status and consolidation need no ``--config``.
* ``unit_campaigns``: per period and region, the units issued a workbook (id, name and kind as
  issued), the campaign settings and the fingerprint of the signing key (``cos-xl generate
  --units --db``): what the unit status and the regional rollup read.

Uniqueness does the bookkeeping: one version number per region, period and unit, and the same
bytes only once per region, period and unit (once among the unattributed files).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

blobs = Table(
    "blobs", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    # NULL only for a file over the validator's size limit: its digest and size are kept.
    Column("data", LargeBinary, nullable=True),
)

submissions = Table(
    "submissions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("region_code", String(2), nullable=True),
    Column("period", String(6), nullable=True),
    Column("version", Integer, nullable=True),
    Column("form_id", String(64), nullable=False),
    Column("form_version", String(32), nullable=False),
    Column("sha256", String(64), ForeignKey("blobs.sha256"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("filename", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("verdict", String(20), nullable=False),
    Column("findings", JSON, nullable=False),
    Column("input_values", JSON, nullable=False),
    Column("explanations", JSON, nullable=False),
    Column("claimed_region_code", String(64), nullable=True),
    Column("claimed_period", String(64), nullable=True),
    Column("tool_version", String(32), nullable=False),
    # Fingerprint of the key the manifest was verified with (cos_xl.signing); NULL before 0002.
    Column("key_fingerprint", String(16), nullable=True),
    # the unit whose return this is (cos_xl.units); '' for a region's own return (since 0004)
    Column("unit_id", String(32), nullable=False, server_default=""),
    UniqueConstraint("region_code", "period", "unit_id", "version"),
    UniqueConstraint("region_code", "period", "unit_id", "sha256"),
    CheckConstraint("verdict IN ('PASS', 'PASS_WITH_WARNINGS', 'FAIL')", name="verdict"),
    CheckConstraint(
        "(region_code IS NULL AND period IS NULL AND version IS NULL AND verdict = 'FAIL') OR "
        "(region_code IS NOT NULL AND period IS NOT NULL AND version >= 1)",
        name="attribution"),
    Index(None, "period"),
    Index("ix_submissions_unattributed_sha256", "sha256", unique=True,
          sqlite_where=text("region_code IS NULL"),
          postgresql_where=text("region_code IS NULL")),
)

campaigns = Table(
    "campaigns", metadata,
    Column("period", String(6), primary_key=True),
    # the campaign settings as given (cos_xl.campaign.Campaign, JSON): deadline, targets, form
    Column("campaign", JSON, nullable=False),
    Column("regions", JSON, nullable=False),  # codes of the regions issued a template
    Column("key_fingerprint", String(16), nullable=False),
    Column("dev_key", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("tool_version", String(32), nullable=False),
)

unit_campaigns = Table(
    "unit_campaigns", metadata,
    Column("period", String(6), primary_key=True),
    Column("region_code", String(2), primary_key=True),
    Column("units", JSON, nullable=False),  # [{"id", "name", "kind"}, …] as issued, by id
    # the campaign settings as given (cos_xl.campaign.Campaign, JSON)
    Column("campaign", JSON, nullable=False),
    Column("key_fingerprint", String(16), nullable=False),
    Column("dev_key", Boolean, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("tool_version", String(32), nullable=False),
)

receipts = Table(
    "receipts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("submissions.id"), nullable=False),
    Column("filename", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),
    CheckConstraint("outcome IN ('new', 'duplicate')", name="outcome"),
    Index(None, "submission_id"),
)

# --- web intake (cos-xl serve): who may upload and who may look --------------------------------
# Secrets are never stored: a region's upload link and a session cookie are kept as the SHA-256
# of their random value (256 bits, so a plain digest suffices), a password as an argon2 hash.

upload_tokens = Table(
    "upload_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("region_code", String(2), nullable=False),
    Column("period", String(6), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # one link in force per region and period
    Index("ix_upload_tokens_active", "region_code", "period", unique=True,
          sqlite_where=text("revoked_at IS NULL"),
          postgresql_where=text("revoked_at IS NULL")),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # failed logins in a row; past the limit the account waits until locked_until
    Column("failed_logins", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),  # the session's form token
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index(None, "user_id"),
)
