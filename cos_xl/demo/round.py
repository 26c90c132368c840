"""A whole quarterly round on synthetic data, in one call: what ``cos-xl demo`` runs.

Generate every region's template → regions fill them (a few with the typical mistakes) → the
returns are taken into a fresh ledger in order of receipt → status → national consolidation →
validation report and annotated returns. Every stage is the library the real commands use; only
the regions are simulated (:mod:`cos_xl.demo.mistakes`).
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cos_xl.campaign import Campaign
from cos_xl.consolidate import NationalReport, consolidate_period, write_csv, write_json, write_xlsx
from cos_xl.consolidate.ledger_inputs import consolidation_inputs
from cos_xl.demo.mistakes import PlannedFile, RoundPlan, plan_round, write_returns
from cos_xl.demo.sample import SYNTHETIC_NOTE
from cos_xl.errors import CosXlError
from cos_xl.generate import generate
from cos_xl.ledger import IntakeOutcome, StatusRow, open_ledger
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.signing import resolve_key
from cos_xl.spec import load_form
from cos_xl.validate.annotate import annotate
from cos_xl.validate.report import write_xlsx_report
from cos_xl.validate.run import FileResult

MARKER = ".cos-xl-demo"
DEFAULT_PERIOD = "2020Q3"

Step = Callable[[str], None]


class DemoError(CosXlError):
    """The demo cannot run (e.g. its output folder holds other files)."""


@dataclass
class DemoResult:
    out: Path
    plan: RoundPlan
    files: list[PlannedFile]
    outcomes: list[IntakeOutcome]
    status: list[StatusRow]
    report: NationalReport
    paths: dict[str, Path] = field(default_factory=dict)  # Russian label -> path
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> seconds


def prepare_out(out: Path) -> None:
    """An empty folder, or one a previous demo wrote (emptied); anything else is refused, so
    that the demo never deletes a user's files."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise DemoError(f"{out}: это файл, а не папка")
        entries = list(out.iterdir())
        if entries and not (out / MARKER).is_file():
            raise DemoError(f"{out}: папка не пуста и создана не командой demo; укажите пустую "
                            "или новую папку (--out)")
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Папка создана командой cos-xl demo и перезаписывается ею.\n",
                              encoding="utf-8")
    (out / "README.txt").write_text(
        f"{SYNTHETIC_NOTE}\nШаблоны подписаны ключом разработчика: не для рассылки регионам.\n",
        encoding="utf-8")


def run_demo(out: Path, *, seed: int = 0, period: str = DEFAULT_PERIOD,
             through_libreoffice: bool = False, regions: list[str] | None = None,
             step: Step | None = None) -> DemoResult:
    """Run the round into ``out``; ``step`` is told what each stage did (Russian, one line)."""
    say = step or (lambda _text: None)
    out = Path(out)
    if through_libreoffice:
        from cos_xl.office.libreoffice import INSTALL_HINT, find_soffice, find_uno_python
        if find_soffice() is None or find_uno_python() is None:  # not the cached answer
            raise DemoError("--through-libreoffice: LibreOffice в режиме headless с модулем "
                            f"uno не найден; установите: {INSTALL_HINT}")
    prepare_out(out)
    key = resolve_key(None, dev_key=True, env={})
    campaign = Campaign()
    parsed = Period.parse(period)
    form = load_form(campaign.form_for(parsed))
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    generated = generate(parsed, out / "templates", key, campaign=campaign, regions=regions,
                         force=True)  # the demo's own folder, made anew
    seconds["generate"] = time.perf_counter() - started
    say(f"Шаблоны: {_books(len(generated.paths))} за {seconds['generate']:.1f} с → "
        f"{out / 'templates'}")

    started = time.perf_counter()
    plan = plan_round(parsed, seed, regions, campaign=campaign)
    templates = out / "templates"
    if through_libreoffice:
        from cos_xl.demo.libreoffice import write_returns_libreoffice
        files = write_returns_libreoffice(plan, templates, out / "returns")
    else:
        files = write_returns(plan, templates, out / "returns")
    seconds["fill"] = time.perf_counter() - started
    how = "в LibreOffice" if through_libreoffice else "программно"
    say(f"Регионы заполнили и прислали {_files(len(files))} ({how}), не прислали: "
        f"{len(plan.missing)}; {seconds['fill']:.1f} с")

    started = time.perf_counter()
    moment = {"now": plan.sends[0].received_at if plan.sends else dt.datetime.now(dt.UTC)}
    ledger_path = out / "ledger.sqlite"
    outcomes: list[IntakeOutcome] = []
    with open_ledger(str(ledger_path), create=True, clock=lambda: moment["now"]) as ledger:
        for planned in files:  # one at a time, each at its receipt time
            moment["now"] = planned.send.received_at
            outcomes += ledger.intake([planned.path], key, allow_dev_key=True)
        seconds["intake"] = time.perf_counter() - started
        say(f"Приём в реестр: {_files(len(outcomes))} за {seconds['intake']:.1f} с → "
            f"{ledger_path}")
        status = ledger.status(parsed, campaign, now=plan.deadline_at + dt.timedelta(days=7))

        started = time.perf_counter()
        accepted, rejected = consolidation_inputs(ledger, parsed)
    report = consolidate_period(form, campaign, parsed, accepted, rejected)
    national = out / "national"
    national.mkdir(exist_ok=True)
    paths = {
        "Национальная сводка (Excel)": national / f"national_{parsed}.xlsx",
        "Национальная сводка (JSON)": national / f"national_{parsed}.json",
        "Национальная сводка (CSV)": national / f"national_{parsed}.csv",
    }
    write_xlsx(report, paths["Национальная сводка (Excel)"])
    write_json(report, paths["Национальная сводка (JSON)"])
    write_csv(report, paths["Национальная сводка (CSV)"])
    seconds["consolidate"] = time.perf_counter() - started
    regions = quantity(len(accepted), "субъекту", "субъектам", "субъектам")
    say(f"Сводка по {regions} за {seconds['consolidate']:.2f} с → {national}")

    started = time.perf_counter()
    results = [_file_result(o) for o in outcomes]
    reports = out / "reports"
    reports.mkdir(exist_ok=True)
    write_xlsx_report(results, reports / "validation-report.xlsx")
    annotated = reports / "annotated"
    # Sent back to the regions: the files with an error or an unexplained warning.
    to_return = [r for r in results if any(f.severity != "info" for f in r.findings)]
    written = [p for p in (annotate(r, annotated, key) for r in to_return) if p]
    seconds["reports"] = time.perf_counter() - started
    say(f"Отчёт о проверке и {_books(len(written))} с замечаниями для регионов → {reports}")
    paths.update({
        "Шаблоны регионов": out / "templates",
        "Присланные файлы": out / "returns",
        "Реестр (SQLite)": ledger_path,
        "Отчёт о проверке": reports / "validation-report.xlsx",
        "Книги с замечаниями": annotated,
    })
    return DemoResult(out, plan, files, outcomes, status, report, paths, seconds)


def _books(n: int) -> str:
    return quantity(n, "книга", "книги", "книг")


def _files(n: int) -> str:
    return quantity(n, "файл", "файла", "файлов")


def _file_result(outcome: IntakeOutcome) -> FileResult:
    return FileResult(path=outcome.path, verdict=outcome.verdict, findings=list(outcome.findings),
                      region_code=outcome.region_code, period=outcome.period,
                      form_version=outcome.form_version)
