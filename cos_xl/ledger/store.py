"""The ledger: record received files as versions, read submissions back.

A file is recorded in one transaction of its own: the bytes (once per digest), the submission
with the next version number of its region, period and unit, and a receipt. Identical bytes for
the same region, period and unit are not stored again: a receipt says they came in once more.
Writers of one region, period and unit are serialised (SQLite: the database write lock;
PostgreSQL: an advisory lock), and unique constraints make a lost race an error that is retried,
never a duplicate.

Two levels share the tables: a region's own return (``unit_id`` '') and, one level down, the
returns of its units (municipalities, organisations). Every federal reading — latest accepted,
overview, status, previous figures, the submissions consolidation and the web pages read — sees
only the regions' own returns (:data:`REGION_LEVEL`); the units' are read by the ``unit_*`` and
``*_units`` methods, one region at a time.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Self

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from cos_xl import __version__
from cos_xl.core import compute_indicators
from cos_xl.ledger.db import LedgerError, open_engine, shown, writing
from cos_xl.ledger.records import (
    Received,
    Recorded,
    UnattributedFile,
    findings_json,
    submission_from_row,
    unattributed_from_row,
    utc,
)
from cos_xl.ledger.schema import blobs, receipts, submissions
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.spec import Form
from cos_xl.submission import ACCEPTED, Submission

if TYPE_CHECKING:
    from cos_xl.campaign import Campaign
    from cos_xl.ledger.campaigns import RegisteredCampaign
    from cos_xl.ledger.intake import IntakeOutcome
    from cos_xl.ledger.status import StatusRow
    from cos_xl.ledger.unit_campaigns import RegisteredUnits
    from cos_xl.signing import SigningKey
    from cos_xl.units import Unit
    from cos_xl.validate.safety import SafetyLimits

_RETRIES = 8
S = submissions.c
#: the rows of the regions' own returns: what every federal reading is restricted to
REGION_LEVEL = S.unit_id == ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@cache
def _form(form_id: str, form_version: str) -> Form | None:
    from cos_xl.validate.expected import UnknownTemplate, form_for
    try:
        return form_for({"form_id": form_id, "form_version": form_version})
    except UnknownTemplate:
        return None


def indicator_figures(submission: Submission) -> dict[str, float]:
    """The indicator values of an accepted submission, by code (empty ones left out)."""
    form = _form(submission.form_id, submission.form_version)
    if form is None:
        return {}
    return {code: ind.value for code, ind in compute_indicators(form, submission.values).items()
            if ind.value is not None}


class Ledger:
    """Submissions of every region and period, in a SQLite file or a PostgreSQL database."""

    def __init__(self, engine: Engine, clock: Callable[[], dt.datetime] = _now) -> None:
        self.engine = engine
        self.clock = clock
        self.created = False  # whether opening it created it

    @property
    def url(self) -> str:
        return shown(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def access(self):
        """Upload links, federal accounts and sessions of the web intake
        (:class:`cos_xl.ledger.access.Access`)."""
        from cos_xl.ledger.access import Access
        return Access(self.engine, self.clock)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def record(self, item: Received) -> Recorded:
        """Store one received file (or recognise its bytes) in a transaction of its own."""
        lock = ("unattributed" if not item.attributed else
                f"{item.region_code}/{item.period}" + (f"/{item.unit_id}" if item.unit_id else ""))
        for attempt in range(_RETRIES):
            try:
                with writing(self.engine, lock) as conn:
                    return self._record(conn, item)
            except (IntegrityError, OperationalError) as exc:
                # A lost race (unique constraint) or a busy database: try again, a little later.
                if attempt == _RETRIES - 1:
                    raise self._error(item, exc) from exc
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
            except SQLAlchemyError as exc:
                raise self._error(item, exc) from exc
        raise AssertionError("unreachable")

    def _error(self, item: Received, exc: SQLAlchemyError) -> LedgerError:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        return LedgerError(f"Не удалось записать {item.filename} в реестр {self.url}: {reason}")

    def _record(self, conn: Connection, item: Received) -> Recorded:
        same = (and_(S.region_code == item.region_code, S.period == item.period,
                     S.unit_id == item.unit_id)
                if item.attributed else S.region_code.is_(None))
        existing = conn.execute(select(S.id, S.version, S.verdict)
                                .where(same, S.sha256 == item.sha256)).first()
        if existing is not None:
            self._receipt(conn, existing.id, item, "duplicate")
            return Recorded("duplicate", existing.id, existing.version, existing.verdict,
                            item.unit_id)
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        conn.execute(insert(blobs).values(sha256=item.sha256, size=item.size, data=item.data)
                     .on_conflict_do_nothing(index_elements=["sha256"]))
        version = None
        if item.attributed:
            version = (conn.execute(select(func.max(S.version)).where(same)).scalar() or 0) + 1
        new_id = conn.execute(submissions.insert().values(
            region_code=item.region_code, period=item.period, version=version,
            form_id=item.form_id, form_version=item.form_version, sha256=item.sha256,
            size=item.size, filename=item.filename, received_at=utc(item.received_at),
            verdict=item.verdict, findings=findings_json(item.findings),
            input_values=dict(item.values), explanations=dict(item.explanations),
            claimed_region_code=item.claimed_region_code, claimed_period=item.claimed_period,
            tool_version=__version__, key_fingerprint=item.key_fingerprint,
            unit_id=item.unit_id,
        )).inserted_primary_key[0]
        self._receipt(conn, new_id, item, "new")
        return Recorded("new", new_id, version, item.verdict, item.unit_id)

    @staticmethod
    def _receipt(conn: Connection, submission_id: int, item: Received, outcome: str) -> None:
        conn.execute(receipts.insert().values(submission_id=submission_id,
                                              filename=item.filename,
                                              received_at=utc(item.received_at),
                                              outcome=outcome))

    # --- reading ---------------------------------------------------------------------------

    def find(self, sha256: str) -> Submission | None:
        """The attributed submission with these bytes, if any (the earliest if several), of
        either level: a unit's return says so in its ``unit_id``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(submissions).where(
                S.sha256 == sha256, S.region_code.is_not(None)).order_by(S.id).limit(1)).first()
        return submission_from_row(row) if row is not None else None

    def submissions(self, period: Period | str,
                    region: str | None = None) -> list[Submission]:
        """Every stored version of the regions' own returns of the period (of one region if
        given), by region and version."""
        query = select(submissions).where(S.period == str(Period.parse(period)), REGION_LEVEL)
        if region is not None:
            query = query.where(S.region_code == region)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(S.region_code, S.version)).all()
        return [submission_from_row(row) for row in rows]

    def latest_accepted(self, period: Period | str) -> dict[str, Submission]:
        """Region code → the latest accepted version of its own return (a later rejected
        version does not replace it), in code order; regions with nothing accepted are absent.
        Units' returns are never among them."""
        return {sub.region_code: sub for sub in self._latest_accepted(period, REGION_LEVEL)}

    def _latest_accepted(self, period: Period | str, *where) -> list[Submission]:
        """The latest accepted version of each region and unit of the rows ``where`` selects,
        by region and unit."""
        period = str(Period.parse(period))
        latest = (select(S.region_code, S.unit_id, func.max(S.version).label("version"))
                  .where(S.period == period, S.verdict.in_(ACCEPTED), *where)
                  .group_by(S.region_code, S.unit_id).subquery())
        query = (select(submissions)
                 .join(latest, and_(S.region_code == latest.c.region_code,
                                    S.unit_id == latest.c.unit_id,
                                    S.version == latest.c.version))
                 .where(S.period == period, *where).order_by(S.region_code, S.unit_id))
        with self.engine.connect() as conn:
            return [submission_from_row(row) for row in conn.execute(query)]

    def overview(self, period: Period | str) -> list[tuple[str, int, str, dt.datetime]]:
        """(region, version, verdict, received at) of every version of the regions' own
        returns of the period: what the status needs, without the stored values."""
        query = (select(S.region_code, S.version, S.verdict, S.received_at)
                 .where(S.period == str(Period.parse(period)), REGION_LEVEL)
                 .order_by(S.region_code, S.version))
        with self.engine.connect() as conn:
            return [(r.region_code, r.version, r.verdict, utc(r.received_at))
                    for r in conn.execute(query)]

    # --- one level down: the units of a region ---------------------------------------------

    def unit_submissions(self, period: Period | str, region: str,
                         unit_id: str | None = None) -> list[Submission]:
        """Every stored version of the units' returns of one region and period (of one unit if
        given), by unit and version."""
        query = select(submissions).where(S.period == str(Period.parse(period)),
                                          S.region_code == region, S.unit_id != "")
        if unit_id is not None:
            query = query.where(S.unit_id == unit_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(S.unit_id, S.version)).all()
        return [submission_from_row(row) for row in rows]

    def latest_accepted_units(self, period: Period | str,
                              region: str) -> dict[str, Submission]:
        """Unit id → the latest accepted version of the unit's return (PASS or
        PASS_WITH_WARNINGS; a later rejected version does not replace it), by id; units with
        nothing accepted are absent. What the regional rollup sums."""
        found = self._latest_accepted(period, S.region_code == region, S.unit_id != "")
        return {sub.unit_id: sub for sub in sorted(found, key=lambda sub: sub.unit_id)}

    def unit_overview(self, period: Period | str,
                      region: str) -> list[tuple[str, int, str, dt.datetime]]:
        """(unit id, version, verdict, received at) of every version of the units' returns of
        one region and period, by unit and version: what the unit status needs."""
        query = (select(S.unit_id, S.version, S.verdict, S.received_at)
                 .where(S.period == str(Period.parse(period)), S.region_code == region,
                        S.unit_id != "")
                 .order_by(S.unit_id, S.version))
        with self.engine.connect() as conn:
            return [(r.unit_id, r.version, r.verdict, utc(r.received_at))
                    for r in conn.execute(query)]

    def previous_unit_figures(self, period: Period | str, region: str
                              ) -> dict[str, tuple[Period, dict[str, float]]]:
        """Unit id → (period, {indicator code: value}) of its latest accepted return of
        ``period``: the units' counterpart of :meth:`previous_figures`."""
        parsed = Period.parse(period)
        return {unit: (parsed, indicator_figures(sub))
                for unit, sub in self.latest_accepted_units(parsed, region).items()}

    def register_units(self, period: Period | str, region_code: str, units: Iterable[Unit],
                       campaign: Campaign, key: SigningKey) -> RegisteredUnits:
        """Record the units of a region issued a workbook for a period (see
        :func:`cos_xl.ledger.unit_campaigns.register_units`)."""
        from cos_xl.ledger.unit_campaigns import register_units
        return register_units(self.engine, period, region_code, units, campaign, key,
                              self.clock())

    def regions_collecting(self, period: Period | str) -> list[str]:
        """Codes of the regions with units recorded for the period (one level down)."""
        from cos_xl.ledger.unit_campaigns import regions_collecting
        return regions_collecting(self.engine, period)

    def unit_campaign(self, period: Period | str, region_code: str) -> RegisteredUnits | None:
        """The units recorded for a period and region, or None."""
        from cos_xl.ledger.unit_campaigns import registered_units
        return registered_units(self.engine, period, region_code)

    def periods(self) -> list[str]:
        """Every period the ledger knows — of a campaign, a region's submission or an upload
        link — newest first."""
        from cos_xl.ledger.schema import campaigns, upload_tokens
        with self.engine.connect() as conn:
            found = set(conn.execute(select(S.period).where(S.period.is_not(None), REGION_LEVEL)
                                     .distinct()).scalars())
            found |= set(conn.execute(select(campaigns.c.period)).scalars())
            found |= set(conn.execute(select(upload_tokens.c.period).distinct()).scalars())
        return sorted(found, key=lambda p: (Period.parse(p).year, Period.parse(p).quarter),
                      reverse=True)

    def unattributed(self) -> list[UnattributedFile]:
        """Files kept although their manifest could not be trusted, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(submissions).where(S.region_code.is_(None))
                                .order_by(S.id)).all()
        return [unattributed_from_row(row) for row in rows]

    def register_campaign(self, period: Period | str, campaign: Campaign,
                          regions: Iterable[str], key: SigningKey) -> RegisteredCampaign:
        """Record the campaign of a period: its settings, the regions issued, the key."""
        from cos_xl.ledger.campaigns import register
        return register(self.engine, Period.parse(period), campaign, regions, key, self.clock())

    def campaign(self, period: Period | str) -> RegisteredCampaign | None:
        """The campaign recorded for a period, or None."""
        from cos_xl.ledger.campaigns import registered
        return registered(self.engine, period)

    def remove_unattributed(self, ids: Iterable[int]) -> list[int]:
        """Remove unidentified records (and their bytes when nothing else keeps them); the ids
        removed. A record attributed to a region is never removed."""
        removed = []
        with writing(self.engine, "unattributed") as conn:
            for number in sorted(set(ids)):
                row = conn.execute(select(S.id, S.sha256).where(
                    S.id == number, S.region_code.is_(None))).first()
                if row is None:
                    continue
                conn.execute(receipts.delete().where(receipts.c.submission_id == row.id))
                conn.execute(submissions.delete().where(S.id == row.id))
                if not conn.execute(select(func.count()).select_from(submissions)
                                    .where(S.sha256 == row.sha256)).scalar():
                    conn.execute(blobs.delete().where(blobs.c.sha256 == row.sha256))
                removed.append(row.id)
        return removed

    def unattributed_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(submissions)
                                .where(S.region_code.is_(None))).scalar()

    def blob(self, sha256: str) -> bytes:
        """The original bytes of a received file."""
        with self.engine.connect() as conn:
            row = conn.execute(select(blobs.c.data, blobs.c.size)
                               .where(blobs.c.sha256 == sha256)).first()
        if row is None:
            raise LedgerError(f"В реестре нет файла с SHA-256 {sha256} (no such file)")
        if row.data is None:
            size = quantity(row.size, "байт", "байта", "байт")
            raise LedgerError(f"Файл {sha256} ({size}) превышал предел размера: "
                              "сохранены только его сумма и размер (bytes not kept)")
        return bytes(row.data)

    def counts(self) -> Mapping[str, int]:
        """How many rows each table holds (for checks and tests)."""
        with self.engine.connect() as conn:
            return {table.name: conn.execute(select(func.count()).select_from(table)).scalar()
                    for table in (blobs, submissions, receipts)}

    # --- previous period -------------------------------------------------------------------

    def previous_figures(self, period: Period | str
                         ) -> dict[str, tuple[Period, dict[str, float]]]:
        """Region → (period, {indicator code: value}) of its latest accepted submission of
        ``period``: what ``generate(previous=…)`` prefills into the next period's templates."""
        parsed = Period.parse(period)
        return {region: (parsed, indicator_figures(sub))
                for region, sub in self.latest_accepted(parsed).items()}

    def previous_for_validation(self, period: Period | str) -> dict[str, dict]:
        """The ``previous`` mapping of ``validate_file`` for returns of ``period``: each
        region's latest accepted figures of the period before."""
        return {region: {"period": str(prev), "values": values}
                for region, (prev, values)
                in self.previous_figures(Period.parse(period).previous()).items()}

    # --- the two jobs, in their own modules ------------------------------------------------

    def intake(self, paths: Iterable[Path], key: SigningKey, *, allow_dev_key: bool = False,
               limits: SafetyLimits | None = None, period: Period | str | None = None,
               region: str | None = None, names: Mapping[Path, str] | None = None,
               on_outcome: Callable[[IntakeOutcome], None] | None = None
               ) -> list[IntakeOutcome]:
        """Validate and record files: see :func:`cos_xl.ledger.intake.intake`."""
        from cos_xl.ledger.intake import intake
        return intake(self, paths, key, allow_dev_key=allow_dev_key, limits=limits,
                      period=period, region=region, names=names, on_outcome=on_outcome)

    def status(self, period: Period | str, campaign: Campaign | None = None, *,
               now: dt.datetime | None = None) -> list[StatusRow]:
        """One row per region of the period: see :func:`cos_xl.ledger.status.status`. Without
        ``campaign``, the period's campaign recorded in the ledger, if any, gives the deadline
        and the regions issued a template."""
        from cos_xl.ledger.status import status
        registered = self.campaign(period)
        if campaign is None and registered is not None:
            campaign = registered.campaign
        return status(self, period, campaign, now=now,
                      issued=registered.regions if registered is not None else None)


def open_ledger(db: str | None = None, *, create: bool = False,
                clock: Callable[[], dt.datetime] = _now) -> Ledger:
    """Open (and migrate) the ledger at ``db``: a URL, a SQLite file path, or None for
    ``cos-xl.sqlite`` in the working folder. One that does not exist is a LedgerError unless
    ``create``; ``Ledger.created`` then says whether this call created it."""
    engine, created = open_engine(db, create=create)
    ledger = Ledger(engine, clock)
    ledger.created = created
    return ledger
