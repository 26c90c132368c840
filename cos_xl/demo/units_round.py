"""The municipal round of one region on SYNTHETIC data (``cos-xl demo --units``): what a regional
coordinator does with cos-xl, one level down, ending in the region's return filled by the tool.

1. the region's units file (shipped, synthetic) and its own ledger;
2. one workbook per municipality, recorded in the ledger;
3. the municipalities fill and send them: one types a number with spaces (rejected, then
   corrected), one is late;
4. the rollup refuses while that one is missing, then the late file arrives and the region's
   federal template is filled, with the sheet «Свод по МО»;
5. the result is checked as the federal intake will check it.

The federal template is generated here with the development key, as a stand-in for the one the
federal operator sends; in a real round it comes from them.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cos_xl.campaign import Campaign, Contact
from cos_xl.fill import fill_workbook
from cos_xl.demo.round import DemoError, prepare_out
from cos_xl.demo.units import sample_unit, unit_shares
from cos_xl.generate import generate
from cos_xl.ledger import open_ledger
from cos_xl.ledger.intake import IntakeOutcome
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.regions import get_region
from cos_xl.rollup.run import RollupResult, UnitsMissing, rollup
from cos_xl.signing import resolve_key
from cos_xl.units import Unit, load_units
from cos_xl.validate.run import FileResult, validate_file

__all__ = ["SHIPPED", "UnitsDemo", "run_units_demo", "shipped_units"]

#: the regions whose synthetic units ship with cos-xl
SHIPPED = ("77", "16", "54")
TEXTS = {"resp_name": "Смирнова Анна Викторовна (синтетические данные)",
         "resp_position": "Консультант отдела цифровой трансформации (синтетические данные)",
         "resp_phone": "+7 (495) 000-00-00", "resp_email": "demo@edu.example.ru"}


@dataclass(frozen=True)
class UnitsDemo:
    out: Path
    units: tuple[Unit, ...]
    outcomes: list[IntakeOutcome]
    refused: str  # what the rollup said while a unit was missing
    result: RollupResult
    checked: FileResult  # the rolled-up return, validated as the federal intake does
    paths: dict[str, Path]
    seconds: float


def shipped_units(region_code: str) -> Path:
    """The packaged synthetic units file of a region."""
    if region_code not in SHIPPED:
        raise DemoError(f"Синтетический список МО есть для субъектов {', '.join(SHIPPED)}, а "
                        f"не для {region_code}")
    return Path(str(resources.files("cos_xl.demo").joinpath(
        "synthetic_units", f"units_{region_code}.csv")))


def run_units_demo(out: Path, *, region_code: str = "77", period: str = "2020Q3",
                   step: Callable[[str], None] | None = None) -> UnitsDemo:
    say = step or (lambda _text: None)
    started = time.perf_counter()
    out = Path(out)
    prepare_out(out)
    key = resolve_key(None, dev_key=True, env={})
    parsed = Period.parse(period)
    region = get_region(region_code)
    units_file = out / f"units_{region.code}.csv"
    shutil.copyfile(shipped_units(region.code), units_file)
    units = load_units(units_file)
    campaign = Campaign(rollup=TEXTS, contact=Contact(
        name=f"Координатор сбора, {region.full_name} (синтетические данные)"))
    ledger_path = out / f"region{region.code}.sqlite"
    with open_ledger(str(ledger_path), create=True) as ledger:
        issued = generate(parsed, out / "units", key, campaign=campaign, regions=[region.code],
                          units=units, force=True)
        ledger.register_units(parsed, region.code, units, campaign, key)
        say(f"Шаблоны МО: {quantity(len(issued.paths), 'книга', 'книги', 'книг')} за "
            f"{issued.seconds:.1f} с → {out / 'units'} (список: {units_file.name})")

        shares = unit_shares(units)
        figures = {u.unit_id: sample_unit(region, parsed, shares[u.unit_id]) for u in units}
        typo, late = units[2], units[-1]
        returned = out / "returned"
        returned.mkdir()

        def send(unit: Unit, values: dict, folder: Path) -> Path:
            folder.mkdir(exist_ok=True)
            template = issued.paths[units.index(unit)]
            path = folder / template.name
            path.write_bytes(fill_workbook(template.read_bytes(), values))
            return path

        first = [send(u, figures[u.unit_id] if u != typo else dict(
            figures[u.unit_id], students_go=f"{figures[u.unit_id]['students_go']:,}".replace(
                ",", " ")), returned) for u in units if u != late]
        outcomes = ledger.intake(first, key, allow_dev_key=True)
        accepted = sum(o.verdict != "FAIL" for o in outcomes)
        say(f"МО прислали {quantity(len(first), 'файл', 'файла', 'файлов')}: принято "
            f"{accepted}, отклонено {len(first) - accepted} (число с пробелами у {typo.unit_id});"
            f" {late.unit_id} опаздывает")
        outcomes += ledger.intake([send(typo, figures[typo.unit_id], out / "corrected")], key,
                                  allow_dev_key=True)
        say(f"{typo.unit_id} исправил файл и прислал снова: версия 2 принята")

        federal = generate(parsed, out / "federal", key, regions=[region.code],
                           force=True).paths[0]
        try:
            rollup(ledger, parsed, region.code, federal, out / "rollup")
            raise DemoError("свод собрался без опоздавшего МО")  # the policy under show
        except UnitsMissing as exc:
            refused = str(exc)
        say(f"Свод без {late.unit_id} не собирается: «{refused.splitlines()[0]}»")
        outcomes += ledger.intake([send(late, figures[late.unit_id], out / "late")], key,
                                  allow_dev_key=True)
        result = rollup(ledger, parsed, region.code, federal, out / "rollup",
                        now=dt.datetime.now(dt.UTC))
    checked = validate_file(result.path, key, allow_dev_key=True)
    say(f"Отчёт субъекта собран из {quantity(len(units), 'отчёта', 'отчётов', 'отчётов')} МО "
        f"за {result.seconds:.2f} с → {result.path}; проверка: {checked.verdict}")
    paths = {"Список МО": units_file, "Шаблоны МО": out / "units",
             "Реестр сбора (SQLite)": ledger_path,
             "Шаблон субъекта (от федерального оператора)": federal,
             "Отчёт субъекта со сводом по МО": result.path}
    return UnitsDemo(out, units, outcomes, refused, result, checked, paths,
                     time.perf_counter() - started)
