"""The campaign of a period, kept in the ledger: the settings the templates were generated with
(deadline, targets, form), the regions issued a template and the fingerprint of the signing key.

``cos-xl generate --db`` and ``cos-xl campaign register`` record it; ``status``, ``consolidate``
and ``intake`` read it, so that nobody has to pass the same ``--config`` every time. Registering
again for the same period adds regions (a second batch of templates) and replaces the settings;
another signing key for the same period is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from cos_xl import __version__
from cos_xl.campaign import Campaign
from cos_xl.ledger.db import LedgerError, shown, writing
from cos_xl.ledger.records import utc
from cos_xl.ledger.schema import campaigns
from cos_xl.periods import Period
from cos_xl.signing import SigningKey

C = campaigns.c


@dataclass(frozen=True)
class RegisteredCampaign:
    period: str
    campaign: Campaign
    regions: tuple[str, ...]  # sorted codes
    key_fingerprint: str
    dev_key: bool
    registered_at: dt.datetime


def register(engine: Engine, period: Period, campaign: Campaign, regions: Iterable[str],
             key: SigningKey, now: dt.datetime) -> RegisteredCampaign:
    """Record (or extend) the campaign of ``period``."""
    with writing(engine, f"campaign/{period}") as conn:
        row = conn.execute(select(campaigns).where(C.period == str(period))).first()
        codes = set(regions)
        if row is not None:
            if row.key_fingerprint != key.fingerprint:
                raise LedgerError(
                    f"Кампания {period} в реестре {shown(engine.url)} зарегистрирована с другим "
                    f"ключом подписи (отпечаток {row.key_fingerprint}, сейчас {key.fingerprint}):"
                    " шаблоны одного периода подписываются одним ключом.")
            codes |= set(row.regions or [])
            conn.execute(campaigns.delete().where(C.period == str(period)))
        conn.execute(campaigns.insert().values(
            period=str(period), campaign=campaign.model_dump(mode="json"),
            regions=sorted(codes), key_fingerprint=key.fingerprint, dev_key=key.dev,
            registered_at=utc(now), tool_version=__version__))
    found = registered(engine, period)
    assert found is not None
    return found


def registered(engine: Engine, period: Period | str) -> RegisteredCampaign | None:
    """The campaign recorded for ``period``, if any."""
    with engine.connect() as conn:
        row = conn.execute(select(campaigns).where(C.period == str(period))).first()
    if row is None:
        return None
    return RegisteredCampaign(
        period=row.period, campaign=Campaign.model_validate(row.campaign),
        regions=tuple(sorted(row.regions or [])), key_fingerprint=row.key_fingerprint,
        dev_key=bool(row.dev_key), registered_at=utc(row.registered_at))
