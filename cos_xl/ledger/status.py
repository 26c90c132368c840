"""Where each region of a period stands: not received, rejected, accepted (with warnings).

* The state follows the version that counts — the latest accepted one — so a region whose latest
  version was rejected after an accepted one stays accepted (consolidation uses that version),
  and the row says a later version was rejected. "rejected" means nothing accepted yet.
* Overdue: no accepted version received by the end of the deadline day, Moscow time (UTC+3,
  the federal deadline), once that moment has passed or an accepted version came in late.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from cos_xl.campaign import Campaign
from cos_xl.periods import Period
from cos_xl.regions import regions_for_period
from cos_xl.submission import ACCEPTED

if TYPE_CHECKING:  # the Ledger calls these functions; they only use it
    from cos_xl.ledger.store import Ledger

MOSCOW = dt.timezone(dt.timedelta(hours=3), "MSK")
State = Literal["not_received", "rejected", "accepted_with_warnings", "accepted"]
STATE_RU: dict[str, str] = {
    "not_received": "не получен",
    "rejected": "отклонён",
    "accepted_with_warnings": "принят с предупреждениями",
    "accepted": "принят",
}


class Versions:
    """What the regions' and the units' status rows share: the state follows the version that
    counts (:func:`standing` computes the fields)."""

    state: State
    latest_version: int | None
    counted_version: int | None

    @property
    def state_ru(self) -> str:
        return STATE_RU[self.state]

    @property
    def later_rejected(self) -> bool:
        """An accepted version counts, but a newer version was rejected."""
        return self.counted_version is not None and self.latest_version != self.counted_version

    def as_json(self) -> dict:
        """The row as the status documents (``--format json``) give it."""
        data = asdict(self)  # type: ignore[call-overload]
        data["status"] = self.state_ru
        at = data["latest_received_at"]
        data["latest_received_at"] = at.isoformat() if at else None
        return data

    def later_rejected_note(self) -> str:
        if self.later_rejected:
            return (f"версия {self.latest_version} отклонена, учитывается версия "
                    f"{self.counted_version}")
        return ""


@dataclass(frozen=True)
class StatusRow(Versions):
    region_code: str
    region_name: str
    state: State
    versions: int  # how many versions were stored
    latest_version: int | None  # the newest version received, whatever its verdict
    latest_verdict: str | None
    latest_received_at: dt.datetime | None
    counted_version: int | None  # the latest accepted version: the one consolidation uses
    overdue: bool

    def note_ru(self) -> str:
        return self.later_rejected_note()


def standing(versions: Iterable[tuple[int, str, dt.datetime]], deadline: dt.datetime,
             now: dt.datetime) -> dict[str, object]:
    """The state fields of a status row from (version, verdict, received at) of every version
    one region (or unit) sent: state, versions, latest_*, counted_version, overdue."""
    versions = sorted(versions)
    accepted = [v for v in versions if v[1] in ACCEPTED]
    latest = versions[-1] if versions else None
    counted = accepted[-1] if accepted else None
    if counted is not None:
        state = "accepted" if counted[1] == "PASS" else "accepted_with_warnings"
    else:
        state = "rejected" if versions else "not_received"
    on_time = any(received_at < deadline for _, _, received_at in accepted)
    return {"state": state, "versions": len(versions),
            "latest_version": latest[0] if latest else None,
            "latest_verdict": latest[1] if latest else None,
            "latest_received_at": latest[2] if latest else None,
            "counted_version": counted[0] if counted else None,
            "overdue": not on_time and (bool(accepted) or now >= deadline)}


def deadline_moment(period: Period, campaign: Campaign) -> dt.datetime:
    """The end of the deadline day, Moscow time, as an aware datetime."""
    day = campaign.deadline(period) + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=MOSCOW)


def status(ledger: Ledger, period: Period | str, campaign: Campaign | None = None, *,
           now: dt.datetime | None = None,
           issued: Iterable[str] | None = None) -> list[StatusRow]:
    """One row per region that reports in the period (only those ``issued`` a template, when
    given), in code order."""
    period = Period.parse(period)
    campaign = campaign or Campaign()
    wanted = set(issued) if issued is not None else None
    now = now or ledger.clock()
    deadline = deadline_moment(period, campaign)
    by_region: dict[str, list[tuple[int, str, dt.datetime]]] = {}
    for region, version, verdict, received_at in ledger.overview(period):
        by_region.setdefault(region, []).append((version, verdict, received_at))
    rows = []
    for region in regions_for_period(period.year, period.quarter):
        if wanted is not None and region.code not in wanted:
            continue
        rows.append(StatusRow(region_code=region.code, region_name=region.full_name,
                              **standing(by_region.get(region.code, []), deadline, now)))
    return rows


def summary(rows: list[StatusRow]) -> dict[str, int]:
    """How many regions are in each state, and how many are overdue."""
    counts = {state: 0 for state in STATE_RU}
    for row in rows:
        counts[row.state] += 1
    counts["overdue"] = sum(row.overdue for row in rows)
    return counts


def to_json(period: Period | str, rows: list[StatusRow], campaign: Campaign | None = None,
            *, unattributed: int = 0, now: dt.datetime | None = None) -> dict:
    """The document ``cos-xl status --format json`` prints (schema ``cos-xl/status/1``)."""
    period = Period.parse(period)
    campaign = campaign or Campaign()

    return {
        "schema": "cos-xl/status/1",
        "period": str(period),
        "deadline": campaign.deadline(period).isoformat(),
        "as_of": now.isoformat() if now else None,
        "summary": summary(rows),
        "unattributed_files": unattributed,
        "regions": [row.as_json() for row in rows],
    }
