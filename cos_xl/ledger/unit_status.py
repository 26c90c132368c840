"""Where each unit of a region stands for a period, one level down: not received, rejected,
accepted (with warnings) — ``cos-xl status --period 2020Q3 --region 77``.

The rows are the units the ledger recorded as issued a workbook for the region and period
(``cos-xl generate --units … --db``), then any unit whose return is in the ledger although it is
not on that list (marked). As in the regions' status (:mod:`cos_xl.ledger.status`), the state
follows the latest accepted version, and a unit is overdue when no accepted version came in by
the end of the deadline day (Moscow time) of the settings the units' workbooks were issued with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cos_xl.campaign import Campaign
from cos_xl.ledger.db import LedgerError
from cos_xl.ledger.status import STATE_RU, State, Versions, deadline_moment, standing
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.regions import select_regions
from cos_xl.units import KIND_RU, how_many

if TYPE_CHECKING:  # the CLI passes the Ledger; this module only reads it
    from cos_xl.ledger.store import Ledger
    from cos_xl.ledger.unit_campaigns import RegisteredUnits

#: how many units of each kind, in the summary line: (1, 2–4, 5 and more)
KIND_NOUNS = {
    "municipality": ("муниципальное образование", "муниципальных образования",
                     "муниципальных образований"),
    "organisation": ("организация", "организации", "организаций"),
}


class NoUnitsError(LedgerError):
    """The ledger knows no unit of the region for the period: neither a list nor a return."""


@dataclass(frozen=True)
class UnitStatusRow(Versions):
    unit_id: str
    name: str  # as issued; '' for a unit not on the list
    kind: str | None  # "municipality" | "organisation"; None for a unit not on the list
    issued: bool | None  # on the list of units issued; None when no list is recorded
    state: State
    versions: int  # how many versions were stored
    latest_version: int | None  # the newest version received, whatever its verdict
    latest_verdict: str | None
    latest_received_at: dt.datetime | None
    counted_version: int | None  # the latest accepted version: the one the rollup uses
    overdue: bool

    @property
    def kind_ru(self) -> str:
        return KIND_RU.get(self.kind or "", "")

    def note_ru(self) -> str:
        notes = ["нет в списке выданных"] if self.issued is False else []
        return "; ".join(notes + [note for note in [self.later_rejected_note()] if note])


@dataclass(frozen=True)
class UnitStatus:
    """The units of one region for one period."""

    period: str
    region_code: str
    region_name: str
    deadline: dt.date
    registered: RegisteredUnits | None  # the list of units issued, if recorded
    rows: tuple[UnitStatusRow, ...]

    def summary(self) -> dict[str, int]:
        """How many units are in each state, overdue, and not on the list of those issued."""
        counts = {state: 0 for state in STATE_RU}
        for row in self.rows:
            counts[row.state] += 1
        counts["overdue"] = sum(row.overdue for row in self.rows)
        counts["not_issued"] = sum(row.issued is False for row in self.rows)
        return counts

    def summary_ru(self) -> str:
        """``12 муниципальных образований и 2 организации; принято: 5, …``."""
        counts = self.summary()
        listed = [row for row in self.rows if row.issued is not False]
        by_kind = [quantity(sum(row.kind == kind for row in listed), *nouns)
                   for kind, nouns in KIND_NOUNS.items() if any(row.kind == kind for row in listed)]
        unknown = sum(row.kind is None for row in listed)
        if unknown or not by_kind:
            by_kind.append(how_many(unknown))
        text = (f"{' и '.join(by_kind)}; принято: {counts['accepted']}, с предупреждениями: "
                f"{counts['accepted_with_warnings']}, отклонено: {counts['rejected']}, не "
                f"получено: {counts['not_received']}; просрочено: {counts['overdue']}")
        if counts["not_issued"]:
            text += f"; не из списка выданных: {how_many(counts['not_issued'])}"
        return text


def unit_status(ledger: Ledger, period: Period | str, region: str,
                campaign: Campaign | None = None, *,
                now: dt.datetime | None = None) -> UnitStatus:
    """Every unit of ``region`` for ``period``: those issued a workbook, in id order, then those
    not on that list whose returns are in the ledger. ``campaign`` (else the settings the units'
    workbooks were issued with, else the period's campaign, else the defaults) gives the
    deadline. A region the ledger knows no unit of is a :class:`NoUnitsError`."""
    period = Period.parse(period)
    (found,) = select_regions([region], period.year, period.quarter)
    registered = ledger.unit_campaign(period, found.code)
    by_unit: dict[str, list[tuple[int, str, dt.datetime]]] = {}
    for unit_id, version, verdict, received_at in ledger.unit_overview(period, found.code):
        by_unit.setdefault(unit_id, []).append((version, verdict, received_at))
    if registered is None and not by_unit:
        raise NoUnitsError(
            f"В реестре {ledger.url} нет ни списка МО/организаций субъекта {found.code} за "
            f"{period}, ни их отчётов. Сначала сформируйте их книги с записью в реестр: cos-xl "
            f"generate --period {period} --region {found.code} --units ФАЙЛ.csv --out ПАПКА "
            f"--db {ledger.url}")
    if campaign is None:
        federal = ledger.campaign(period)
        campaign = (registered.campaign if registered is not None else
                    federal.campaign if federal is not None else Campaign())
    now = now or ledger.clock()
    deadline = deadline_moment(period, campaign)
    listed = {unit.unit_id: unit for unit in registered.units} if registered else {}
    order = [*listed, *sorted(set(by_unit) - set(listed))]
    rows = []
    for unit_id in order:
        unit = listed.get(unit_id)
        rows.append(UnitStatusRow(
            unit_id=unit_id, name=unit.name if unit else "", kind=unit.kind if unit else None,
            issued=(unit is not None) if registered is not None else None,
            **standing(by_unit.get(unit_id, []), deadline, now)))
    return UnitStatus(str(period), found.code, found.full_name, campaign.deadline(period),
                      registered, tuple(rows))


def units_json(status: UnitStatus, *, now: dt.datetime | None = None) -> dict:
    """The document ``cos-xl status --region … --format json`` prints (schema
    ``cos-xl/unit-status/1``)."""

    return {
        "schema": "cos-xl/unit-status/1",
        "period": status.period,
        "region_code": status.region_code,
        "region_name": status.region_name,
        "deadline": status.deadline.isoformat(),
        "as_of": now.isoformat() if now else None,
        "units_registered": status.registered is not None,
        "summary": status.summary(),
        "units": [{**row.as_json(), "kind_ru": row.kind_ru} for row in status.rows],
    }


_SHORT_KIND = {"муниципальное образование": "МО"}


def print_unit_status(status: UnitStatus, console: Console) -> None:
    """The table of the units and the summary line."""
    from cos_xl.ledger.report import moscow_time

    table = Table(title=f"Период {status.period}, субъект {status.region_code} "
                        f"({status.region_name}), срок {status.deadline:%d.%m.%Y}",
                  title_justify="left")
    # the code, state and dates never wrap; the name takes the room that is left
    table.add_column("Код", no_wrap=True)
    table.add_column("Наименование", min_width=24, ratio=1)
    table.add_column("Вид", max_width=14)
    for column in ("Статус", "Версия", "Получен (МСК)", "Срок"):
        table.add_column(column, no_wrap=True)
    table.add_column("Примечание")
    style = {"not_received": "dim", "rejected": "red", "accepted_with_warnings": "yellow",
             "accepted": "green"}
    for row in status.rows:
        table.add_row(escape(row.unit_id), escape(row.name) or "—",
                      _SHORT_KIND.get(row.kind_ru or "", row.kind_ru or "—"),
                      f"[{style[row.state]}]{row.state_ru}[/]",
                      str(row.latest_version) if row.latest_version else "",
                      moscow_time(row.latest_received_at),
                      "[red]просрочен[/]" if row.overdue else "",
                      f"[yellow]{row.note_ru()}[/]" if row.issued is False else row.note_ru())
    console.print(table)
    console.print(status.summary_ru())
