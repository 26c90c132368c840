"""How the pages write numbers, moments, verdicts and findings: as a Russian reader expects
(``1 200 000``, ``12,5 %``, ``15.10.2020 14:05 (МСК)``)."""

from __future__ import annotations

import datetime as dt

from cos_xl.findings import SEVERITY_RU
from cos_xl.ledger.status import MOSCOW
from cos_xl.plural import quantity
from cos_xl.validate.annotate import ru_number

VERDICT_RU = {"PASS": "Принят", "PASS_WITH_WARNINGS": "Принят с предупреждениями",
              "FAIL": "Не принят"}
VERDICT_CLASS = {"PASS": "pass", "PASS_WITH_WARNINGS": "warn", "FAIL": "fail"}
STATE_CLASS = {"accepted": "pass", "accepted_with_warnings": "warn", "rejected": "fail",
               "not_received": "none"}


def number(value: object, digits: int | None = None) -> str:
    if isinstance(value, float) and digits is not None:
        return ru_number(round(value, digits))
    return ru_number(value)


def share(value: object) -> str:
    return ru_number(value, percent=True) if isinstance(value, int | float) else "—"


def figure(value: object, unit: str) -> str:
    """An indicator value in its unit: a share in percent, a count in persons."""
    if value is None:
        return "—"
    return share(value) if unit == "%" else f"{number(value, 0)}"


def moment(value: dt.datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def day(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value is not None else ""


def size(value: int | None) -> str:
    if value is None:
        return ""
    if value < 1024:
        return quantity(value, "байт", "байта", "байт")
    if value < 1 << 20:
        return f"{value / 1024:.0f} КБ"
    return f"{value / (1 << 20):.1f} МБ".replace(".", ",")


def where(finding: dict) -> str:
    """``Данные!E12`` for a finding with a cell, the sheet alone, or nothing."""
    sheet, cell = finding.get("sheet"), finding.get("cell")
    if sheet and cell:
        return f"{sheet}!{cell}"
    return sheet or ""


def value_text(value: object) -> str:
    if value is None:
        return ""
    return ru_number(value) if isinstance(value, int | float) and not isinstance(
        value, bool) else str(value)


FILTERS = {
    "number": number, "share": share, "figure": figure, "moment": moment, "day": day,
    "size": size, "where": where, "value_text": value_text,
    "verdict_ru": lambda v: VERDICT_RU.get(v, v or ""),
    "verdict_class": lambda v: VERDICT_CLASS.get(v, "none"),
    "state_class": lambda v: STATE_CLASS.get(v, "none"),
    "severity_ru": lambda v: SEVERITY_RU.get(v, v or ""),
}
