"""Intake: validate each returned file and record it in the ledger, one transaction per file.

Region, period and form version come from the signed manifest, never from the file name. A file
whose manifest cannot be trusted is still recorded (bytes kept, verdict FAIL) as unattributed.
The period-to-period rules get each region's latest accepted figures of the previous period from
the ledger itself; the file name's period (``cos_2020Q3_77.xlsm``) or that of the file before is
used as a guess to fetch them before validating, and a file of another period is validated again
with the right ones, so the guess only saves time. Bytes already stored under a region are
recognised by their digest without validating them again: the verdict they got then stands.

One level down, a unit's return (a municipality's or an organisation's, manifest ``"level":
"unit"``) is recorded under its region with its ``unit_id``: its versions are numbered per unit,
its previous-period figures are the unit's own, and a unit missing from the units the ledger
recorded for its region and period is rejected (``unit-not-issued``). Federal readings never see
it (:mod:`cos_xl.ledger.store`).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.ledger.records import Received, Recorded
from cos_xl.periods import Period, PeriodError
from cos_xl.signing import SigningKey
from cos_xl.submission import ACCEPTED, Verdict
from cos_xl.units import KINDS
from cos_xl.validate.run import FileResult, validate_file
from cos_xl.validate.safety import SafetyLimits, not_a_workbook

if TYPE_CHECKING:  # the Ledger calls these functions; they only use it
    from cos_xl.ledger.store import Ledger
    from cos_xl.ledger.unit_campaigns import RegisteredUnits

OutcomeStatus = Literal["new", "duplicate", "error", "skipped", "refused", "other-key"]
VERDICT_RU = {"PASS": "принят", "PASS_WITH_WARNINGS": "принят с предупреждениями",
              "FAIL": "отклонён"}
_PERIOD_IN_NAME = re.compile(r"(?<!\d)(\d{4}[Qq][1-4])(?!\d)")
_REGION = re.compile(r"^\d{2}$")
#: the name ``cos-xl generate --units`` gives a unit's workbook: cos_2020Q3_77_45000000.xlsm
_UNIT_IN_NAME = re.compile(r"^cos_(\d{4}Q[1-4])_(\d{2})_([A-Za-z0-9_-][A-Za-z0-9._-]{0,31})"
                           r"\.xls[xm]$", re.IGNORECASE)
#: how a unit is named in the intake summary, by kind
UNIT_KIND_SHORT = {"municipality": "МО", "organisation": "организация"}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class IntakeOutcome:
    """What became of one file. ``status`` is "new" (stored as a new version or as an
    unattributed file), "duplicate" (the same bytes were already stored; ``version`` is theirs),
    "error" (the file could not be read), "skipped" (not a workbook at all: a covering letter, a
    scan), "refused" (a workbook of another period than the one being taken) or "other-key"
    (these bytes were stored before, verified with another signing key). Only "new" and
    "duplicate" are in the ledger."""

    path: Path
    status: OutcomeStatus
    verdict: Verdict
    message: str  # Russian, for the summary table
    region_code: str | None = None
    period: str | None = None
    version: int | None = None
    sha256: str | None = None
    size: int | None = None
    findings: tuple[Finding, ...] = ()
    seconds: float = 0.0
    form_version: str | None = None  # of the form the file was issued on, once attributed
    unit_id: str = ""  # a unit's return: the unit's id ('' for a region's own return)
    unit_name: str = ""  # and its name as issued, when known

    @property
    def accepted(self) -> bool:
        return self.stored and self.verdict in ACCEPTED

    @property
    def stored(self) -> bool:
        return self.status in ("new", "duplicate")

    @property
    def needs_attention(self) -> bool:
        """Not accepted, and not merely a file that is no workbook (passed over)."""
        return self.status != "skipped" and not self.accepted


@dataclass(frozen=True)
class _Read:
    sha256: str
    size: int
    data: bytes | None
    stamp: tuple[int, int]  # size and mtime when read: a file changed meanwhile is not taken


def _read(path: Path, keep_up_to: int) -> _Read:
    """Digest of the whole file; its bytes only up to the validator's size limit."""
    digest = hashlib.sha256()
    chunks: list[bytes] | None = []
    size = 0
    with open(path, "rb") as handle:
        stat = os.fstat(handle.fileno())
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if chunks is not None:
                chunks.append(chunk)
                if size > keep_up_to:
                    chunks = None
    data = b"".join(chunks) if chunks is not None else None
    return _Read(digest.hexdigest(), size, data, (stat.st_size, stat.st_mtime_ns))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _period_in_name(name: str) -> Period | None:
    match = _PERIOD_IN_NAME.search(name)
    try:
        return Period.parse(match.group(1)) if match else None
    except PeriodError:
        return None


def _unit_in_name(name: str) -> tuple[str, str] | None:
    """(region, unit id) of a unit's workbook under the name the generator gave it."""
    match = _UNIT_IN_NAME.match(name)
    return (match.group(2), match.group(3)) if match else None


class _Attribution(NamedTuple):
    region: str
    period: str
    form_id: str
    form_version: str
    unit: str = ""  # '' for a region's own return
    unit_name: str = ""  # as the signed manifest gives it
    unit_kind: str = ""


def _attribution(result: FileResult) -> _Attribution | None:
    """Whose return it is, when the manifest's signature held; else None."""
    unit = result.unit_id or ""
    unit_name = unit_kind = ""
    if result.manifest is not None:
        m = result.manifest
        region, period = str(m.get("region_code")), str(m.get("period"))
        form_id, form_version = str(m.get("form_id") or ""), str(m.get("form_version") or "")
        listed = m.get("unit") if unit and isinstance(m.get("unit"), dict) else {}
        unit_name = str(listed.get("name") or "")
        unit_kind = str(listed["kind"]) if listed.get("kind") in KINDS else ""
    elif any(f.code == "template-unknown" for f in result.findings):
        # Signed by us, but a form this version does not know: whose it is, is still certain.
        region, period = str(result.region_code), str(result.period)
        form_id, form_version = "", str(result.form_version or "")
    else:
        return None
    if not _REGION.match(region) or _period_in_name(period) is None:
        return None
    return _Attribution(region, str(Period.parse(period)), form_id, form_version, unit,
                        unit_name, unit_kind)


def _claim(value: object) -> str | None:
    """What an untrusted manifest says, as printable text (it may hold anything)."""
    return None if value is None else "".join(ch for ch in str(value) if ch.isprintable())[:64]


def unit_label(unit_id: str, name: str = "", kind: str = "") -> str:
    """``МО 45000000 «Город»``: how the intake summary names a unit."""
    label = f"{UNIT_KIND_SHORT.get(kind, 'МО/организация')} {unit_id}"
    return f"{label} «{name}»" if name else label


def _message(recorded: Recorded, attributed: bool, unit: str = "") -> str:
    """The summary line; ``unit`` (a unit's return) names the unit first."""
    if recorded.outcome == "duplicate":
        text = (f"уже получен, версия {recorded.version}" if attributed
                else "уже получен (не опознан)")
    elif not attributed:
        text = "не опознан (сохранён без субъекта и периода)"
    else:
        text = f"{VERDICT_RU[recorded.verdict]}, версия {recorded.version}"
    return f"{unit}: {text}" if unit else text


class _PreviousFigures:
    """The ``previous`` mappings by period, fetched once per intake run; those of a period
    are fetched again after this run accepts a submission of it. A unit's return is validated
    with its unit's own figures (a mapping of its region to them, as the validator looks them
    up by the manifest's region), fetched per region and period."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.by_period: dict[str, dict[str, dict]] = {}
        self.units: dict[tuple[str, str], dict[str, dict]] = {}  # (period, region) -> by unit

    def __call__(self, period: Period, region: str = "", unit: str = ""
                 ) -> Mapping[str, Mapping]:
        key = str(period.previous())
        if not unit:
            if key not in self.by_period:
                self.by_period[key] = self.ledger.previous_for_validation(period)
            return self.by_period[key]
        if (key, region) not in self.units:
            self.units[key, region] = {
                unit_id: {"period": str(prev), "values": values} for unit_id, (prev, values)
                in self.ledger.previous_unit_figures(key, region).items()}
        entry = self.units[key, region].get(unit)
        return {region: entry} if entry is not None else {}

    def accepted(self, period: str) -> None:
        self.by_period.pop(period, None)
        for key in [key for key in self.units if key[0] == period]:
            del self.units[key]


class _Issued:
    """The regions issued a template, by period, from the campaigns recorded in the ledger
    (None for a period without one: then every region is taken)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.by_period: dict[str, frozenset[str] | None] = {}

    def __call__(self, period: str) -> frozenset[str] | None:
        if period not in self.by_period:
            found = self.ledger.campaign(period)
            self.by_period[period] = frozenset(found.regions) if found is not None else None
        return self.by_period[period]


class _IssuedUnits:
    """The units issued a workbook, by period and region, from the ledger (None for a region
    and period without them recorded: then every unit is taken)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.found: dict[tuple[str, str], RegisteredUnits | None] = {}

    def __call__(self, period: str, region: str) -> RegisteredUnits | None:
        if (period, region) not in self.found:
            self.found[period, region] = self.ledger.unit_campaign(period, region)
        return self.found[period, region]

    def named(self, period: str, region: str, unit_id: str, name: str = "",
              kind: str = "") -> tuple[str, str]:
        """How the summary names the unit, and its name: as the manifest says, else as the
        unit was issued."""
        issued = self(period, region)
        known = issued.unit(unit_id) if issued is not None else None
        if known is not None:
            name, kind = name or known.name, kind or known.kind
        return unit_label(unit_id, name, kind), name


def intake(ledger: Ledger, paths: Iterable[Path], key: SigningKey, *,
           allow_dev_key: bool = False, limits: SafetyLimits | None = None,
           period: Period | str | None = None, region: str | None = None,
           names: Mapping[Path, str] | None = None,
           on_outcome: Callable[[IntakeOutcome], None] | None = None) -> list[IntakeOutcome]:
    """Validate and record each file; one outcome per file, in order. A file is in the ledger
    once its outcome is reported (each file is committed before the next is read).

    Files that are no workbook by their content are passed over ("skipped"), never stored.
    With ``period``, a workbook of another period is "refused" and not stored; with ``region``
    (the web intake: a region's upload link), so is a workbook of another region, and a unit's
    workbook (the link takes the region's own return). A region the period's recorded campaign
    did not issue a template to is rejected (``region-not-issued``); so is a unit's return
    whose unit is missing from the units recorded for its region and period, when they are
    (``unit-not-issued``; a unit's return is checked against those, not the regions).
    ``names`` gives the name a file arrived with when it is kept under another (an upload
    spooled under a generated name); the ledger records that name.
    """
    limits = limits or SafetyLimits()
    only = Period.parse(period) if period is not None else None
    scope = _Scope(_PreviousFigures(ledger), _Issued(ledger), _IssuedUnits(ledger), only,
                   region)
    guess: Period | None = only
    outcomes = []
    for path in paths:
        path = Path(path)
        name = (names or {}).get(path, path.name)
        outcome = _take(ledger, path, name, key, allow_dev_key, limits, scope, guess)
        if outcome.period is not None:
            guess = Period.parse(outcome.period)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes


@dataclass(frozen=True)
class _Scope:
    previous: _PreviousFigures
    issued: _Issued
    units: _IssuedUnits
    period: Period | None  # only this period is taken, when given
    region: str | None = None  # only this region is taken, when given


def _take(ledger: Ledger, path: Path, name: str, key: SigningKey, allow_dev_key: bool,
          limits: SafetyLimits, scope: _Scope, guess: Period | None) -> IntakeOutcome:
    started = time.perf_counter()
    previous = scope.previous

    def error(message: str, status: OutcomeStatus = "error", region: str | None = None,
              period: str | None = None) -> IntakeOutcome:
        return IntakeOutcome(path, status, "FAIL", message, region, period,
                             seconds=time.perf_counter() - started)

    def refused(period: str, region: str | None, unit: str = "", name: str = "",
                kind: str = "") -> IntakeOutcome:
        if scope.region is not None and region != scope.region:
            return error(f"файл субъекта {region}, а принимается {scope.region}: не сохранён",
                         "refused", region, period)
        if scope.region is not None and unit:
            label = scope.units.named(period, str(region), unit, name, kind)[0]
            return error(f"файл {label} субъекта {region}, а принимается отчёт самого "
                         "субъекта: не сохранён", "refused", region, period)
        return error(f"файл периода {period}, а принимается {scope.period}: не сохранён",
                     "refused", region, period)

    def out_of_scope(period: str, region: str | None, unit: str = "") -> bool:
        return ((scope.period is not None and period != str(scope.period))
                or (scope.region is not None and (region != scope.region or bool(unit))))

    what = not_a_workbook(path, limits)
    if what is not None:
        return error(f"не книга ({what}): пропущен, в реестр не записан", "skipped")
    try:
        read = _read(path, limits.max_file_size)
    except OSError as exc:
        return error(f"не удалось прочитать файл: {exc.strerror or exc}")
    known = ledger.find(read.sha256)
    if known is not None and out_of_scope(known.period, known.region_code, known.unit_id):
        return refused(known.period, known.region_code, known.unit_id)
    if known is not None and known.key_fingerprint not in (None, key.fingerprint):
        return error(f"уже получен (версия {known.version}), но проверен с другим ключом "
                     f"подписи (отпечаток {known.key_fingerprint}, сейчас {key.fingerprint}): "
                     "проверьте ключ", "other-key", known.region_code, known.period)
    if known is not None:  # the same bytes again: nothing to validate
        recorded = ledger.record(Received(
            filename=name, sha256=read.sha256, size=read.size, data=read.data,
            received_at=ledger.clock(), verdict=known.verdict, region_code=known.region_code,
            period=known.period, form_id=known.form_id, form_version=known.form_version,
            unit_id=known.unit_id))
        label, unit_name = (scope.units.named(known.period, known.region_code, known.unit_id)
                            if known.unit_id else ("", ""))
        return IntakeOutcome(path, recorded.outcome, recorded.verdict,
                             _message(recorded, True, label), known.region_code, known.period,
                             recorded.version, read.sha256, read.size, known.findings,
                             time.perf_counter() - started, known.form_version or None,
                             known.unit_id, unit_name)

    guess = _period_in_name(name) or guess
    named = _unit_in_name(name)  # a unit's workbook under its own name: its figures first
    used = (None if guess is None else previous(guess, *named) if named else previous(guess))
    result = validate_file(path, key, limits=limits, allow_dev_key=allow_dev_key,
                           previous=used)
    attribution = _attribution(result)
    if attribution is not None:  # validated with the figures of the wrong period or unit?
        right = previous(Period.parse(attribution.period), attribution.region, attribution.unit)
        if (used or {}).get(attribution.region) != right.get(attribution.region):
            result = validate_file(path, key, limits=limits, allow_dev_key=allow_dev_key,
                                   previous=right)
    if _stamp(path) != read.stamp:
        return error("файл изменился во время приёма: примите его ещё раз")
    if attribution is not None and out_of_scope(attribution.period, attribution.region,
                                                attribution.unit):
        return refused(attribution.period, attribution.region, attribution.unit,
                       attribution.unit_name, attribution.unit_kind)
    findings = tuple(result.findings)
    verdict = result.verdict
    label = unit_name = ""
    if attribution is not None and attribution.unit:
        region, period, unit = attribution.region, attribution.period, attribution.unit
        issued_units = scope.units(period, region)
        if issued_units is not None and unit not in issued_units.ids:
            findings += (finding("unit-not-issued", unit=unit, region=region, period=period),)
            verdict = "FAIL"
        label, unit_name = scope.units.named(period, region, unit, attribution.unit_name,
                                             attribution.unit_kind)
    elif attribution is not None:
        issued = scope.issued(attribution.period)
        if issued is not None and attribution.region not in issued:
            findings += (finding("region-not-issued", region=attribution.region,
                                 period=attribution.period),)
            verdict = "FAIL"

    if attribution is None:
        item = Received(
            filename=name, sha256=read.sha256, size=read.size, data=read.data,
            received_at=ledger.clock(), verdict="FAIL", findings=tuple(result.findings),
            claimed_region_code=_claim(result.region_code), claimed_period=_claim(result.period))
    else:
        item = Received(
            filename=name, sha256=read.sha256, size=read.size, data=read.data,
            received_at=ledger.clock(), verdict=verdict, region_code=attribution.region,
            period=attribution.period, form_id=attribution.form_id,
            form_version=attribution.form_version, findings=findings, values=result.values,
            explanations=result.explanations, key_fingerprint=key.fingerprint,
            unit_id=attribution.unit)
    recorded = ledger.record(item)
    if recorded.outcome == "new" and recorded.verdict in ACCEPTED:
        previous.accepted(item.period)
    return IntakeOutcome(path, recorded.outcome, recorded.verdict,
                         _message(recorded, item.attributed, label), item.region_code,
                         item.period, recorded.version, read.sha256, read.size, item.findings,
                         time.perf_counter() - started, item.form_version or None,
                         item.unit_id, unit_name)
