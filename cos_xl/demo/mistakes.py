"""The typical mistakes of a reporting round, as data, and the plan of a simulated round.

Each mistake is a small frozen dataclass that changes a region's values (a number typed as text,
"of them" above the total, an empty responsible person…) or the bytes of its filled workbook (a
formula pasted over with a constant), and declares the findings the validator must give for it:
code, severity and the cell. A :class:`Scenario` strings mistakes into the versions a region
sends; :func:`plan_round` gives every region of a period a scenario, receipt times and the
expected outcome of every file; :func:`write_returns` makes the files.

The expected findings of a file are those its mistakes declare plus the one warning a synthetic
region can have by construction (``target-not-met`` when its sites with full information are
below 100 %; ``info`` when the region explained it), see :mod:`cos_xl.demo.sample`. They are
not computed by running the form's rules, so a test comparing them with the validator tests
the validator.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

from cos_xl import core
from cos_xl.campaign import Campaign
from cos_xl.fill import fill_workbook, read_manifest
from cos_xl.demo.sample import (
    sample_explanations,
    sample_inputs,
    target_not_met_rule,
)
from cos_xl.xlsxpatch import Constant, XlsxPackage
from cos_xl.errors import CosXlError
from cos_xl.periods import Period
from cos_xl.regions import get_region, select_regions
from cos_xl.spec import Form, load_form

__all__ = [
    "CLEAN",
    "MISSING",
    "SCENARIOS",
    "AllSitesComplete",
    "ClearInputs",
    "Expected",
    "ExpectedFinding",
    "NumberAsText",
    "PartAboveTotal",
    "PasteOver",
    "PlannedFile",
    "RegionPlan",
    "RoundPlan",
    "Scenario",
    "Send",
    "SetInputs",
    "SitesIncomplete",
    "Version",
    "plan_round",
    "write_returns",
]

Verdict = Literal["PASS", "PASS_WITH_WARNINGS", "FAIL"]
MOSCOW = dt.timezone(dt.timedelta(hours=3), "MSK")


class PlanError(CosXlError):
    """A round cannot be planned or its files cannot be written."""


@dataclass(frozen=True)
class ExpectedFinding:
    """A finding the validator must give: ``name`` is the input id, the defined name
    (``IND_E4_01_05``) or the check id (``target-not-met:IND_E4_01_05``) whose cell it points
    at; ``address`` is that cell, ``Данные!D6``, once resolved."""

    code: str
    severity: Literal["error", "warning", "info"]
    name: str | None
    address: str | None = None

    @property
    def sheet(self) -> str | None:
        return self.address.rsplit("!", 1)[0] if self.address else None

    @property
    def cell(self) -> str | None:
        return self.address.rsplit("!", 1)[1] if self.address else None


@dataclass(frozen=True)
class Expected:
    """The validator's outcome for one file."""

    verdict: Verdict
    findings: tuple[ExpectedFinding, ...]

    @classmethod
    def of(cls, findings: Iterable[ExpectedFinding]) -> Expected:
        findings = tuple(findings)
        severities = {f.severity for f in findings}
        verdict: Verdict = ("FAIL" if "error" in severities else
                            "PASS_WITH_WARNINGS" if "warning" in severities else "PASS")
        return cls(verdict, findings)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f.code for f in self.findings)

    def keys(self) -> list[tuple[str, str, str | None, str | None]]:
        """Sorted (code, severity, sheet, cell): compare with the validator's findings."""
        return sorted((f.code, f.severity, f.sheet, f.cell) for f in self.findings)

    @property
    def accepted(self) -> bool:
        return self.verdict != "FAIL"


# -- mistakes ------------------------------------------------------------------------------------


class Mistake(Protocol):
    """What a region does wrong, and what the validator must say about it."""

    def apply(self, values: dict[str, object]) -> None:
        """Change the values typed into the workbook (in place)."""

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        """Findings for this mistake, given the final values."""


def _thousands(value: object) -> str:
    return f"{int(value):,}".replace(",", " ")  # type: ignore[call-overload]


@dataclass(frozen=True)
class NumberAsText:
    """A count typed with spaces between the thousands, so the cell holds a text:
    ``1 293 494`` instead of the number."""

    input_id: str

    def apply(self, values: dict[str, object]) -> None:
        values[self.input_id] = _thousands(values[self.input_id])

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        return [ExpectedFinding("value-as-text", "error", self.input_id)]


@dataclass(frozen=True)
class PartAboveTotal:
    """An "of them" figure typed with an extra zero, so that it exceeds its total."""

    part: str
    total: str

    def apply(self, values: dict[str, object]) -> None:
        values[self.part] = max(int(values[self.part]) * 10,  # type: ignore[call-overload]
                                int(values[self.total]) + 1)  # type: ignore[call-overload]

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        return [ExpectedFinding("part-exceeds-total", "error", self.part)]


@dataclass(frozen=True)
class ClearInputs:
    """Required cells left empty (a missing responsible person: no name, no e-mail)."""

    input_ids: tuple[str, ...]

    def apply(self, values: dict[str, object]) -> None:
        for input_id in self.input_ids:
            values[input_id] = None

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        return [ExpectedFinding("value-missing", "error", input_id) for input_id in self.input_ids]


@dataclass(frozen=True)
class SetInputs:
    """Any values, with the findings they cause declared by hand."""

    changes: tuple[tuple[str, object], ...]
    findings: tuple[ExpectedFinding, ...]

    def apply(self, values: dict[str, object]) -> None:
        values.update(dict(self.changes))

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        return list(self.findings)


@dataclass(frozen=True)
class AllSitesComplete:
    """Every organisation's website has the full information (E4.01.05 = 100 %), so the file
    has no ``target-not-met`` warning and shows only the mistakes of its scenario."""

    def apply(self, values: dict[str, object]) -> None:
        for group in ("go", "do"):
            values[f"e40105_{group}"] = values[f"orgs_{group}"]

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        return []


@dataclass(frozen=True)
class SitesIncomplete:
    """Some organisations' websites lack information (E4.01.05 below 100 %)."""

    missing: int = 3

    def apply(self, values: dict[str, object]) -> None:
        orgs = int(values["orgs_go"])  # type: ignore[arg-type]
        values["e40105_go"] = max(0, orgs - self.missing)
        values["e40105_do"] = values["orgs_do"]

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        return []


@dataclass(frozen=True)
class PasteOver:
    """A formula cell overwritten with a constant: ``name`` is a defined name (``IND_E4_01_05``:
    a number typed over the indicator) or a check id (``target-not-met:IND_E4_01_05``: «OK»
    typed over the check). Made in the file's bytes, after filling."""

    name: str
    value: object

    def apply(self, values: dict[str, object]) -> None:
        return None

    def apply_bytes(self, data: bytes) -> bytes:
        book = XlsxPackage(data)
        manifest = read_manifest(data)
        book.set_cells({resolve(manifest, self.name): Constant(self.value)})
        return book.to_bytes()

    def expected(self, form: Form, values: Mapping[str, object]) -> list[ExpectedFinding]:
        found = [ExpectedFinding("formula-replaced", "error", self.name)]
        indicator = form.indicator_names.get(self.name)
        if indicator is not None and indicator.spec.name == self.name:
            computed = core.compute_indicators(form, values)[indicator.spec.code].value
            same = (computed is None and self.value is None) or (
                isinstance(computed, int | float) and isinstance(self.value, int | float)
                and math.isclose(computed, self.value, rel_tol=1e-9, abs_tol=1e-9))
            if not same:
                found.append(ExpectedFinding("indicator-cache-stale", "warning", self.name))
        return found


def resolve(manifest: Mapping, name: str) -> str:
    """The cell of an input id, a defined name or a check id, from a manifest."""
    for table, key in (("inputs", None), ("names", None), ("checks", "result")):
        entry = (manifest.get(table) or {}).get(name)
        if entry is not None:
            return entry[key] if key else entry
    raise PlanError(f"{name!r}: no such input, name or check in the workbook")


# -- scenarios -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One file a region sends: the mistakes in it; ``explain`` whether the region writes its
    usual explanations of warnings."""

    mistakes: tuple[Mistake, ...] = ()
    explain: bool = True


@dataclass(frozen=True)
class Scenario:
    """What a region does in the round (Russian ``title`` and ``story`` for the demo)."""

    id: str
    title: str
    story: str
    versions: tuple[Version, ...]  # empty: the region sends nothing
    late: bool = False


TARGET_CHECK = "target-not-met:IND_E4_01_05"
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("number-as-text", "Число записано как текст",
             "Численность обучающихся ОО набрана с пробелами между разрядами и сохранена как "
             "текст.",
             (Version((AllSitesComplete(), NumberAsText("students_go"))),)),
    Scenario("part-above-total", "«Из них» больше итога",
             "В строке «ДО: вход через ЕПГУ / региональную ИС» лишний ноль: больше, чем "
             "обучающихся ДО.",
             (Version((AllSitesComplete(), PartAboveTotal("e404_do", "students_do"))),)),
    Scenario("formula-pasted-over", "Формула показателя заменена числом",
             "Сайты не всех школ заполнены, а в ячейку показателя E4.01.05 вместо формулы "
             "вписано 100.",
             (Version((SitesIncomplete(), PasteOver("IND_E4_01_05", 100)), explain=False),)),
    Scenario("check-pasted-over", "Проверка заменена текстом «OK»",
             "Предупреждение о сайтах скрыто: в ячейку проверки вписан текст «OK».",
             (Version((SitesIncomplete(), PasteOver(TARGET_CHECK, "OK")), explain=False),)),
    Scenario("missing-responsible", "Не указан ответственный",
             "ФИО и адрес электронной почты ответственного не заполнены.",
             (Version((AllSitesComplete(), ClearInputs(("resp_name", "resp_email")))),)),
    Scenario("late", "Файл прислан после срока",
             "Файл без ошибок, но получен после срока сдачи.",
             (Version((AllSitesComplete(),)),), late=True),
    Scenario("resubmission", "Повторная отправка с исправлением",
             "Первый файл: число организаций СПО указано 0 при организациях «из них»; "
             "через день прислан исправленный файл.",
             (Version((AllSitesComplete(), SetInputs(
                 (("orgs_spo", 0),),
                 (ExpectedFinding("part-exceeds-total", "error", "e405_spo"),
                  ExpectedFinding("total-zero", "warning", "orgs_spo"))))),
              Version((AllSitesComplete(),)))),
)
MISSING = Scenario("missing", "Файл не прислан", "Регион не прислал отчёт.", ())
CLEAN = Scenario("clean", "Без ошибок", "Файл заполнен и прислан в срок.", (Version(),))
_BY_ID = {s.id: s for s in (*SCENARIOS, MISSING, CLEAN)}


# -- the plan ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    """One file a region sends: when, with which values, and what the validator must say."""

    region_code: str
    region_name: str
    scenario: str
    version: int  # 1, 2, … per region
    received_at: dt.datetime  # timezone-aware, UTC
    late: bool
    filename: str
    values: Mapping[str, object]
    explanations: Mapping[str, str]
    pastes: tuple[PasteOver, ...]
    expected: Expected


@dataclass(frozen=True)
class RegionPlan:
    code: str
    name: str
    scenario: Scenario
    sends: tuple[Send, ...]


@dataclass(frozen=True)
class RoundPlan:
    """A simulated round: every region's scenario and files, in order of receipt."""

    period: str
    seed: int
    issued: dt.date
    deadline: dt.date
    deadline_at: dt.datetime  # end of the deadline day, Moscow time, as UTC
    regions: tuple[RegionPlan, ...]
    form_name: str = "cos-2020"
    sends: tuple[Send, ...] = field(init=False)

    def __post_init__(self) -> None:
        ordered = sorted((s for r in self.regions for s in r.sends),
                         key=lambda s: (s.received_at, s.region_code, s.version))
        object.__setattr__(self, "sends", tuple(ordered))

    @property
    def missing(self) -> tuple[str, ...]:
        """Codes of the regions that send nothing."""
        return tuple(r.code for r in self.regions if not r.sends)

    def region(self, code: str) -> RegionPlan:
        return next(r for r in self.regions if r.code == code)

    def final_accepted(self) -> dict[str, Send]:
        """Per region, the last file the validator must accept (what consolidation uses)."""
        out: dict[str, Send] = {}
        for send in self.sends:
            if send.expected.accepted:
                out[send.region_code] = send
        return out


def _baseline(form: Form, values: Mapping[str, object],
              explanations: Mapping[str, str]) -> list[ExpectedFinding]:
    """The warning a synthetic region has by construction: sites below 100 %."""
    numbers = [values.get(f"{kind}_{group}") for kind in ("e40105", "orgs")
               for group in ("go", "do")]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in numbers):
        return []
    sites, orgs = numbers[0] + numbers[1], numbers[2] + numbers[3]  # type: ignore[operator]
    if orgs == 0 or sites >= orgs:
        return []
    rule_id = target_not_met_rule(form)
    severity = "info" if (explanations.get(rule_id) or "").strip() else "warning"
    return [ExpectedFinding("target-not-met", severity, "IND_E4_01_05")]


@lru_cache(maxsize=8)
def _cell_map(form_name: str) -> dict:
    """A manifest of the form's workbook, for its cell addresses (the same in every region and
    period of a form version)."""
    from cos_xl.generate import template_context
    from cos_xl.signing import resolve_key
    from cos_xl.template.builder import build_workbook

    form = load_form(form_name)
    period = Period.parse(form.spec.form.valid_from)
    region = select_regions(None, period.year, period.quarter)[0]
    ctx = template_context(form, Campaign(form=form_name), period, region)
    _, manifest = build_workbook(ctx, resolve_key(None, dev_key=True, env={}))
    return manifest


def _resolved(findings: Iterable[ExpectedFinding],
              manifest: Mapping) -> tuple[ExpectedFinding, ...]:
    return tuple(replace(f, address=resolve(manifest, f.name)) if f.name else f
                 for f in findings)


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    """A working-hours moment of a day in Moscow, as UTC."""
    local = dt.datetime.combine(day, dt.time(9, 0), MOSCOW) + dt.timedelta(
        minutes=rng.randint(0, 9 * 60 - 1), seconds=rng.randint(0, 59))
    return local.astimezone(dt.UTC)


def _filename(period: Period, code: str, version: int, macros: bool) -> str:
    suffix = ".xlsm" if macros else ".xlsx"
    return f"cos_{period}_{code}{'' if version == 1 else f'_v{version}'}{suffix}"


def plan_round(period: Period | str, seed: int = 0, regions: Iterable[str | int] | None = None,
               *, campaign: Campaign | None = None, scenarios: Sequence[str] | None = None,
               missing: int = 2, macros: bool = True) -> RoundPlan:
    """Plan a round: the mistake ``scenarios`` (ids; default all of :data:`SCENARIOS`) go to
    regions drawn by the seed, then ``missing`` regions send nothing, the rest send a clean
    file in time. With fewer regions than that, mistakes are given first."""
    period = Period.parse(period)
    campaign = campaign or Campaign()
    form_name = campaign.form_for(period)
    form = load_form(form_name)
    selected = [r.code for r in select_regions(regions, period.year, period.quarter)]
    chosen = [_BY_ID[s] for s in scenarios] if scenarios is not None else list(SCENARIOS)
    rng = random.Random(f"cos-xl-demo/{seed}/plan/{period}")
    order = list(selected)
    rng.shuffle(order)
    assigned = dict(zip(order, chosen + [MISSING] * missing))
    inputs = sample_inputs(period, seed, form)
    explanations = sample_explanations(period, {c: inputs[c] for c in selected}, seed, form)
    issued, deadline = campaign.issued(period), campaign.deadline(period)
    deadline_at = dt.datetime.combine(deadline, dt.time(23, 59, 59), MOSCOW).astimezone(
        dt.UTC)
    window = max(1, (deadline - issued).days)
    cells = _cell_map(form_name)
    plans = []
    for code in selected:
        scenario = assigned.get(code, CLEAN)
        region_rng = random.Random(f"cos-xl-demo/{seed}/plan/{period}/{code}")
        if scenario.late:
            day = deadline + dt.timedelta(days=region_rng.randint(1, 3))
        elif len(scenario.versions) > 1:
            day = issued + dt.timedelta(days=region_rng.randint(1, max(1, window - 3)))
        else:
            day = issued + dt.timedelta(days=region_rng.randint(1, window))
        at = _moment(region_rng, day)
        sends = []
        for number, version in enumerate(scenario.versions, start=1):
            if number > 1:
                at = _moment(region_rng, at.astimezone(MOSCOW).date() + dt.timedelta(
                    days=region_rng.randint(1, 2)))
            values = dict(inputs[code])
            found: list[ExpectedFinding] = []
            for mistake in version.mistakes:
                mistake.apply(values)
            for mistake in version.mistakes:
                found += mistake.expected(form, values)
            written = dict(explanations.get(code, {})) if version.explain else {}
            found += _baseline(form, values, written)
            sends.append(Send(
                region_code=code, region_name=get_region(code).full_name, scenario=scenario.id,
                version=number, received_at=at, late=at > deadline_at,
                filename=_filename(period, code, number, macros), values=values,
                explanations=written,
                pastes=tuple(m for m in version.mistakes if isinstance(m, PasteOver)),
                expected=Expected.of(_resolved(found, cells))))
        plans.append(RegionPlan(code, get_region(code).full_name, scenario, tuple(sends)))
    return RoundPlan(str(period), seed, issued, deadline, deadline_at, tuple(plans), form_name)


# -- the files -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedFile:
    """A returned file written to disk, with what the validator must say about it."""

    send: Send
    path: Path

    @property
    def expected(self) -> Expected:
        return self.send.expected


def template_path(templates_dir: Path, period: str, code: str) -> Path:
    """The region's template in a folder written by ``cos-xl generate`` (.xlsm or .xlsx)."""
    for suffix in (".xlsm", ".xlsx"):
        path = Path(templates_dir) / f"cos_{period}_{code}{suffix}"
        if path.is_file():
            return path
    raise PlanError(f"нет шаблона региона {code} за {period} в папке {templates_dir}")


def returned_bytes(send: Send, template: bytes) -> bytes:
    """The bytes of one returned file: the template filled, then any formula pasted over."""
    data = fill_workbook(template, send.values, send.explanations)
    for paste in send.pastes:
        data = paste.apply_bytes(data)
    return data


def write_returns(plan: RoundPlan, templates_dir: Path, out_dir: Path) -> list[PlannedFile]:
    """Write every file of the plan into ``out_dir``, in order of receipt; each file's
    modification time is its receipt time."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    templates: dict[Path, bytes] = {}
    written = []
    for send in plan.sends:
        template = template_path(Path(templates_dir), plan.period, send.region_code)
        path = out_dir / Path(send.filename).with_suffix(template.suffix).name
        if template not in templates:
            templates[template] = template.read_bytes()
        path.write_bytes(returned_bytes(send, templates[template]))
        stamp = send.received_at.timestamp()
        os.utime(path, (stamp, stamp))
        written.append(PlannedFile(send, path))
    return written
