"""What the ledger stores and gives back, as plain data: the row written for one received file,
and the rows read back as :class:`cos_xl.submission.Submission`."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from cos_xl.findings import Finding
from cos_xl.submission import Submission, Verdict


def utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one (SQLite gives them back so) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class Received:
    """One file as it is to be recorded. ``region_code``, ``period`` and ``version`` are None for
    an unattributed file (its manifest could not be trusted); ``data`` is None only for a file
    over the safety size limit. ``unit_id`` is the unit whose return it is (one level down), ''
    for a region's own return."""

    filename: str
    sha256: str
    size: int
    data: bytes | None
    received_at: dt.datetime
    verdict: Verdict
    region_code: str | None = None
    period: str | None = None
    form_id: str = ""
    form_version: str = ""
    findings: tuple[Finding, ...] = ()
    values: Mapping[str, object] = field(default_factory=dict)
    explanations: Mapping[str, str] = field(default_factory=dict)
    claimed_region_code: str | None = None
    claimed_period: str | None = None
    key_fingerprint: str | None = None  # of the key the manifest was verified with
    unit_id: str = ""

    @property
    def attributed(self) -> bool:
        return self.region_code is not None


@dataclass(frozen=True)
class Recorded:
    """What recording did: stored a new version, or found the same bytes already there."""

    outcome: str  # "new" | "duplicate"
    submission_id: int
    version: int | None  # None for an unattributed file; else per region, period and unit
    verdict: Verdict
    unit_id: str = ""  # '' for a region's own return


@dataclass(frozen=True)
class UnattributedFile:
    """A file kept although nobody can say whose it is (verdict FAIL)."""

    id: int
    filename: str
    sha256: str
    size: int
    received_at: dt.datetime
    findings: tuple[Finding, ...]
    claimed_region_code: str | None
    claimed_period: str | None


def findings_json(findings: tuple[Finding, ...] | list[Finding]) -> list[dict]:
    return [dataclasses.asdict(f) for f in findings]


_FINDING_FIELDS = {f.name for f in dataclasses.fields(Finding)}


def findings_from_json(items: list[dict] | None) -> tuple[Finding, ...]:
    return tuple(Finding(**{k: v for k, v in item.items() if k in _FINDING_FIELDS})
                 for item in items or ())


def submission_from_row(row) -> Submission:
    return Submission(
        region_code=row.region_code, period=row.period, form_id=row.form_id,
        form_version=row.form_version, version=row.version, sha256=row.sha256, size=row.size,
        filename=row.filename, received_at=utc(row.received_at), verdict=row.verdict,
        findings=findings_from_json(row.findings), values=dict(row.input_values or {}),
        explanations=dict(row.explanations or {}),
        key_fingerprint=row.key_fingerprint, unit_id=row.unit_id or "",
    )


def unattributed_from_row(row) -> UnattributedFile:
    return UnattributedFile(
        id=row.id, filename=row.filename, sha256=row.sha256, size=row.size,
        received_at=utc(row.received_at), findings=findings_from_json(row.findings),
        claimed_region_code=row.claimed_region_code, claimed_period=row.claimed_period,
    )
