"""The units of a region issued a workbook for a period (one level down), kept in the ledger:
the units as issued (id, name, kind), the campaign settings and the fingerprint of the key.

``cos-xl generate --units … --db`` records it; intake (``unit-not-issued``), the unit status
(``cos-xl status --region``) and the regional rollup read it. Registering again for the same
period and region adds units (a second batch of workbooks; a unit issued again keeps the name
and kind given last) and replaces the settings; another signing key is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from cos_xl import __version__
from cos_xl.campaign import Campaign
from cos_xl.ledger.db import LedgerError, shown, writing
from cos_xl.ledger.records import utc
from cos_xl.ledger.schema import unit_campaigns
from cos_xl.periods import Period
from cos_xl.signing import SigningKey
from cos_xl.units import Unit

U = unit_campaigns.c
_REGION = re.compile(r"^\d{2}$")


@dataclass(frozen=True)
class RegisteredUnits:
    """The units one region issued a workbook to for one period."""

    period: str
    region_code: str
    units: tuple[Unit, ...]  # by id
    campaign: Campaign
    key_fingerprint: str
    dev_key: bool
    registered_at: dt.datetime

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(unit.unit_id for unit in self.units)

    def unit(self, unit_id: str) -> Unit | None:
        """The unit with this id as issued, or None."""
        return next((unit for unit in self.units if unit.unit_id == unit_id), None)


def _region(region_code: str) -> str:
    if not _REGION.match(str(region_code)):
        raise LedgerError(f"Код субъекта {region_code!r}: ожидаются две цифры, например 77")
    return str(region_code)


def register_units(engine: Engine, period: Period | str, region_code: str,
                   units: Iterable[Unit], campaign: Campaign, key: SigningKey,
                   now: dt.datetime) -> RegisteredUnits:
    """Record (or extend) the units of ``region_code`` issued a workbook for ``period``."""
    period = str(Period.parse(period))
    region_code = _region(region_code)
    where = (U.period == period, U.region_code == region_code)
    with writing(engine, f"unit-campaign/{region_code}/{period}") as conn:
        row = conn.execute(select(unit_campaigns).where(*where)).first()
        by_id: dict[str, dict] = {}
        if row is not None:
            if row.key_fingerprint != key.fingerprint:
                raise LedgerError(
                    f"Сбор {period} по субъекту {region_code} в реестре {shown(engine.url)} "
                    f"зарегистрирован с другим ключом подписи (отпечаток {row.key_fingerprint}, "
                    f"сейчас {key.fingerprint}): книги одного периода подписываются одним "
                    "ключом.")
            by_id = {str(item["id"]): item for item in row.units or []}
            conn.execute(unit_campaigns.delete().where(*where))
        by_id.update({unit.unit_id: unit.as_dict() for unit in units})
        conn.execute(unit_campaigns.insert().values(
            period=period, region_code=region_code, units=[by_id[i] for i in sorted(by_id)],
            campaign=campaign.model_dump(mode="json"), key_fingerprint=key.fingerprint,
            dev_key=key.dev, registered_at=utc(now), tool_version=__version__))
    found = registered_units(engine, period, region_code)
    assert found is not None
    return found


def registered_units(engine: Engine, period: Period | str,
                     region_code: str) -> RegisteredUnits | None:
    """The units recorded for ``period`` and ``region_code``, if any."""
    period = str(Period.parse(period))
    with engine.connect() as conn:
        row = conn.execute(select(unit_campaigns).where(
            U.period == period, U.region_code == str(region_code))).first()
    if row is None:
        return None
    return RegisteredUnits(
        period=row.period, region_code=row.region_code,
        units=tuple(sorted((Unit.from_dict(item) for item in row.units or []),
                           key=lambda unit: unit.unit_id)),
        campaign=Campaign.model_validate(row.campaign), key_fingerprint=row.key_fingerprint,
        dev_key=bool(row.dev_key), registered_at=utc(row.registered_at))


def regions_collecting(engine: Engine, period: Period | str) -> list[str]:
    """The codes of the regions that recorded units for ``period`` (a region's own ledger)."""
    with engine.connect() as conn:
        return sorted(conn.execute(select(U.region_code).where(
            U.period == str(Period.parse(period)))).scalars())
