"""A submission: one returned workbook as the ledger keeps it, and as consolidation reads it.

This is the contract between the ledger (``cos_xl.ledger``) and the national consolidation
(``cos_xl.consolidate``): the ledger stores the original bytes and gives back ``Submission``
records; consolidation never opens a workbook again, it works from ``values``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from cos_xl.findings import Finding

Verdict = Literal["PASS", "PASS_WITH_WARNINGS", "FAIL"]
ACCEPTED: tuple[Verdict, ...] = ("PASS", "PASS_WITH_WARNINGS")

@dataclass(frozen=True)
class Submission:
    """One stored version of one region's return for one period — or, one level down, of the
    return of one of its units (``unit_id``; '' for the region's own)."""

    region_code: str
    period: str  # "2020Q3"
    form_id: str
    form_version: str
    version: int  # 1, 2, … in order of receipt, per region, period and unit
    sha256: str  # of the original bytes
    size: int
    filename: str  # the name the file arrived with
    received_at: datetime  # timezone-aware, UTC
    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    values: Mapping[str, object] = field(default_factory=dict)  # inputs by id, as read
    explanations: Mapping[str, str] = field(default_factory=dict)  # by rule instance id
    key_fingerprint: str | None = None  # of the signing key it was verified with, if recorded
    unit_id: str = ""  # the unit (municipality or organisation) whose return it is; '' if none

    @property
    def accepted(self) -> bool:
        return self.verdict in ACCEPTED

    def numbers(self) -> dict[str, float]:
        """The numeric inputs (an empty or non-numeric cell is left out, i.e. counts as 0)."""
        return {k: float(v) for k, v in self.values.items()
                if isinstance(v, int | float) and not isinstance(v, bool)}
