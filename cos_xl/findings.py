"""Findings: what a check says about a workbook, as data with a stable code. Every code, with its
severity and wording, is declared in :mod:`cos_xl.findings_catalogue`, which makes them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]

SEVERITY_RU = {"error": "Ошибка", "warning": "Предупреждение", "info": "Сведения"}


@dataclass(frozen=True)
class Finding:
    """One problem found: ``code`` is stable; ``message`` is Russian with the values found."""

    code: str
    severity: Severity
    message: str
    name: str | None = None  # the input or indicator id the finding is about
    sheet: str | None = None
    cell: str | None = None
    value: object = None
    rule_id: str | None = None
