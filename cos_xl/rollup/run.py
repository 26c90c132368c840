"""``cos-xl rollup``: the region's federal template, filled with the sums of its units' accepted
returns, plus the sheet «Свод по МО» that says where every figure came from.

The template is the one the federal team issued (signed with the federal key, which the region
does not hold): only its input cells and the cached results of its formulas change, and a last
sheet is added; its manifest, signature, locked cells, protection and macros stay as issued, so
the federal validator takes it as an ordinary return. The region cannot check the federal
signature; every other stage of the validator is run on the result before it is written.

Missing units (issued a workbook, no accepted return yet) stop the rollup: a regional total that
silently leaves out a municipality is the error this tool exists to prevent. With
``allow_missing`` the workbook is written anyway, the missing units listed in red on «Свод по МО»
and the sheet says the total is incomplete — and the federal validator warns about it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cos_xl import __version__
from cos_xl.campaign import Campaign
from cos_xl.fill import fill_workbook
from cos_xl.xlsxpatch import PatchError, XlsxPackage
from cos_xl.files import write_atomically
from cos_xl.findings import Finding
from cos_xl.periods import Period
from cos_xl.regions import get_region
from cos_xl.rollup.compute import RollupError, UnitsMissing, count_inputs, roll_up
from cos_xl.rollup.layout import (
    ACCEPTED, ACCEPTED_WITH_WARNINGS, MISSING, REJECTED, ROLLUP_SHEET,
)
from cos_xl.rollup.package import add_sheet
from cos_xl.rollup.sheet import PRINT_TITLES, STYLES, Figure, RollupTable, UnitRow, sheet_xml
from cos_xl.units import Unit, how_many
from cos_xl.validate.expected import UnknownTemplate, form_for
from cos_xl.validate.safety import SafetyLimits, inspect_file

if TYPE_CHECKING:
    from cos_xl.ledger.store import Ledger

__all__ = ["RollupError", "RollupResult", "UnitsMissing", "rollup"]


@dataclass(frozen=True)
class RollupResult:
    path: Path
    table: RollupTable
    #: what the validator finds in the written workbook (every stage but the signature)
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    seconds: float

    @property
    def verdict(self) -> str:
        from cos_xl.validate.run import verdict_of
        return verdict_of(list(self.findings))


def _template(path: Path, period: Period, region_code: str) -> tuple[bytes, dict]:
    """The federal template's bytes and (unverified) manifest; RollupError naming the file."""
    if not path.is_file():
        raise RollupError(f"{path}: шаблон субъекта не найден" if not path.exists()
                          else f"{path}: это не файл")
    safety = inspect_file(path, SafetyLimits())
    if not safety.ok:
        raise RollupError(f"{path}: это не шаблон cos-xl — " +
                          "; ".join(f.message for f in safety.findings[:3]))
    data = path.read_bytes()
    try:
        manifest = json.loads(XlsxPackage(data).manifest_text())
    except (PatchError, ValueError) as exc:
        raise RollupError(f"{path}: это не шаблон cos-xl (нет манифеста: {exc})") from exc
    if manifest.get("level") == "unit":
        raise RollupError(f"{path}: это шаблон МО/организации ({manifest['unit'].get('id')}), а "
                          "нужен шаблон субъекта, полученный от федерального оператора")
    if manifest.get("period") != str(period) or manifest.get("region_code") != region_code:
        raise RollupError(f"{path}: шаблон выдан на {manifest.get('region_code')} "
                          f"{manifest.get('period')}, а свод собирается для {region_code} "
                          f"{period}")
    try:
        form_for(manifest)
    except UnknownTemplate as exc:
        raise RollupError(f"{path}: {exc}") from exc
    return data, manifest


def _state(verdict: str) -> str:
    return ACCEPTED_WITH_WARNINGS if verdict == "PASS_WITH_WARNINGS" else ACCEPTED


def rollup(ledger: Ledger, period: Period | str, region_code: str, template: Path,
           out_dir: Path, *, campaign: Campaign | None = None, allow_missing: bool = False,
           now: dt.datetime | None = None) -> RollupResult:
    """Fill the region's federal template from its units' accepted returns in ``ledger`` and
    write it into ``out_dir`` under the template's name. RollupError (nothing written) when the
    template is not the region's, no units were registered, units are missing (unless
    ``allow_missing``), texts are missing or the result would not pass validation."""
    started = time.perf_counter()
    period = Period.parse(period)
    region = get_region(region_code)
    template, out_dir = Path(template), Path(out_dir)
    target = out_dir / template.name
    if target.resolve() == template.resolve():
        raise RollupError(f"{target}: свод записывается в другую папку, чтобы не затереть "
                          "пустой шаблон; укажите другую --out")
    data, manifest = _template(template, period, region.code)
    form = form_for(manifest)
    issued = ledger.unit_campaign(period, region.code)
    if issued is None:
        raise RollupError(
            f"В реестре {ledger.url} нет сведений о шаблонах МО/организаций субъекта "
            f"{region.code} за {period}: сформируйте их с записью в реестр "
            f"(cos-xl generate --period {period} --region {region.code} --units ФАЙЛ --db "
            "РЕЕСТР) и примите отчёты (cos-xl intake)")
    latest = ledger.latest_accepted_units(period, region.code)
    tried = {unit_id for unit_id, _version, _verdict, _at in
             ledger.unit_overview(period, region.code)}
    units: list[Unit] = list(issued.units)
    rows: list[UnitRow] = []
    for unit in units:
        found = latest.get(unit.unit_id)
        if found is None:  # sent only rejected versions, or nothing
            rows.append(UnitRow(unit, REJECTED if unit.unit_id in tried else MISSING))
            continue
        rows.append(UnitRow(unit, _state(found.verdict), found.version, found.received_at,
                            found.sha256, found.numbers()))
    missing = [row for row in rows if not row.counted]
    if missing and not allow_missing:
        listed = "\n".join(f"  {row.unit.unit_id} {row.unit.name}: {row.state}"
                           for row in missing[:20])
        more = f"\n  … и ещё {len(missing) - 20}" if len(missing) > 20 else ""
        raise UnitsMissing(
            f"Нет принятых отчётов {how_many(len(missing), genitive=True)}"
            f" из {len(rows)}:\n{listed}{more}\nСвод не собран: сумма без них занизила бы "
            "значения субъекта. Дождитесь отчётов или соберите неполный свод с "
            "--allow-missing (недостающие будут отмечены на листе «Свод по МО»).")
    accepted = [latest[row.unit.unit_id] for row in rows if row.counted]
    campaign = campaign or issued.campaign
    sums = roll_up(form, accepted, campaign.rollup)
    numbers = form.row_numbers
    counted = set(count_inputs(form))
    figures = tuple(Figure(item.id, numbers.get(item.id, ""), item.short)
                    for item in form.inputs if item.id in counted)
    table = RollupTable(region, period, now or dt.datetime.now(dt.UTC), f"cos-xl {__version__}",
                        figures, tuple(rows), sums.totals)
    try:
        filled = fill_workbook(data, sums.values)
        result = add_sheet(filled, ROLLUP_SHEET, STYLES, lambda styles: sheet_xml(table, styles),
                           PRINT_TITLES.format(sheet=ROLLUP_SHEET))
    except PatchError as exc:
        raise RollupError(f"{template}: шаблон не удалось заполнить ({exc})") from exc
    findings = _check(result, target)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise RollupError("Свод не записан: собранная книга не прошла бы проверку:\n" + "\n".join(
            f"  {f.code} {f.sheet or ''}!{f.cell or ''}: {f.message}" for f in errors[:10]))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(target, result)
    return RollupResult(target, table, tuple(findings), sums.notes,
                        time.perf_counter() - started)


def _check(data: bytes, target: Path) -> list[Finding]:
    """The validator's findings on ``data`` (written to a scratch file under the target's
    name), every stage but the federal signature."""
    import tempfile

    from cos_xl.validate.run import validate_file
    with tempfile.TemporaryDirectory(prefix=".cos-rollup-") as scratch:
        path = Path(scratch) / target.name
        path.write_bytes(data)
        return validate_file(path, None, allow_dev_key=True).findings
