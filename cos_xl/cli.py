"""The ``cos-xl`` command: a thin layer that parses options, calls the library and turns
library errors into short messages with exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cos_xl import __version__
from cos_xl.campaign import load_campaign
from cos_xl.cli_errors import fail, handled, state
from cos_xl.errors import CosXlError
from cos_xl.generate import generate as generate_round
from cos_xl.files import write_atomically
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.regions import select_regions
from cos_xl.signing import resolve_key
from cos_xl.vba import wrappers

app = typer.Typer(
    name="cos-xl", no_args_is_help=True, add_completion=False,
    help="Отчётность федерального проекта «Цифровая образовательная среда» на книгах Excel.",
)
console = Console(stderr=True)


def _wide_console() -> Console:
    """Standard output wide enough for the national table, also when piped (rich's 80)."""
    return Console(width=max(Console().width, 110))


def _fail(exc: Exception) -> typer.Exit:
    return fail(str(exc))


def command(*args, **kwargs):
    """``@app.command`` with the one error handler (:mod:`cos_xl.cli_errors`)."""
    def register(function):
        return app.command(*args, **kwargs)(handled(function))
    return register


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cos-xl {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
         debug: Annotated[bool, typer.Option(
             "--debug", help="Show the Python traceback of an error.")] = False,
         ) -> None:
    """cos-xl: generate, validate and consolidate the regional workbooks."""
    state["debug"] = debug


def _parse_regions(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@command()
def generate(
    period: Annotated[str, typer.Option(help="Reporting period, e.g. 2020Q3.")],
    out: Annotated[Path, typer.Option(help="Folder for the workbooks (created if missing).")],
    regions: Annotated[Optional[str], typer.Option(
        help="Comma-separated region codes, e.g. 77,50; default: every region of the period.")
    ] = None,
    config: Annotated[Optional[Path], typer.Option(help="Campaign configuration (TOML).")] = None,
    key_file: Annotated[Optional[Path], typer.Option(
        help="File with the federal signing key (else env COS_XL_SIGNING_KEY).")] = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Sign with the development key (never for a real campaign).")] = False,
    no_macros: Annotated[bool, typer.Option(
        "--no-macros", help="Write .xlsx without VBA (same cells; no COS_* functions).")] = False,
    previous_from: Annotated[Optional[str], typer.Option(
        "--previous-from", metavar="DB_URL",
        help="Ledger whose latest accepted figures of the previous period are prefilled.")
    ] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace templates already in the folder that differ (they may have "
        "been sent to the regions).")] = False,
    db: Annotated[Optional[str], typer.Option(
        help="Ledger in which to record the campaign (period, deadline, targets, regions "
             "issued, key fingerprint); it must exist (cos-xl ledger init).")] = None,
) -> None:
    """Generate one locked input workbook per region for a period (.xlsm by default)."""
    try:
        key = resolve_key(key_file, dev_key)
        campaign = load_campaign(config)
        parsed = Period.parse(period)
        selected = select_regions(_parse_regions(regions), parsed.year, parsed.quarter)
        previous = _previous_from_ledger(previous_from, parsed) if previous_from else None
        if db is not None:  # refuse before writing anything when the ledger is not there
            from cos_xl.ledger import open_ledger
            open_ledger(db).close()
        if key.dev:
            console.print("[yellow]Внимание: шаблоны подписаны ключом разработчика "
                          "(development key) — не для рассылки регионам.[/]")
        with Progress(TextColumn("[bold]Шаблоны {task.fields[period]}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}"),
                      console=console, transient=not sys.stderr.isatty()) as progress:
            task = progress.add_task("", total=len(selected), period=str(parsed))
            result = generate_round(
                parsed, out, key, campaign=campaign, regions=[r.code for r in selected],
                macros=not no_macros, previous=previous, force=force,
                on_progress=lambda region, _path: progress.update(
                    task, advance=1, description=region.code),
            )
    except CosXlError as exc:
        raise _fail(exc) from exc
    per = result.seconds / max(len(result.paths), 1) * 1000
    books = quantity(len(result.paths), "книга", "книги", "книг")
    console.print(f"Готово: {books} за {result.seconds:.2f} с "
                  f"({per:.0f} мс на книгу) в папке {result.out_dir}")
    if result.unchanged:
        console.print(f"Не изменились (уже были в папке): "
                      f"{quantity(result.unchanged, 'книга', 'книги', 'книг')}")
    if db is not None:
        _register(db, parsed, campaign, [r.code for r in selected], key)


def _register(db: str, period: Period, campaign, regions: list[str], key) -> None:
    from cos_xl.ledger import open_ledger
    with open_ledger(db) as ledger:
        found = ledger.register_campaign(period, campaign, regions, key)
        url = ledger.url
    console.print(f"Кампания {period} записана в реестр {url}: срок "
                  f"{found.campaign.deadline(period):%d.%m.%Y}, "
                  f"{quantity(len(found.regions), 'субъект', 'субъекта', 'субъектов')}, ключ "
                  f"{found.key_fingerprint}")


def _previous_from_ledger(db: str, period: Period) -> dict:
    from cos_xl.ledger import open_ledger
    with open_ledger(db) as ledger:
        return ledger.previous_figures(period.previous())


def _load_previous(path: Path) -> dict:
    import json as jsonlib
    try:
        data = jsonlib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CosXlError(f"{path}: не удалось прочитать предыдущие значения: {exc}") from exc
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("values", {}), dict) for v in data.values()):
        raise CosXlError(f'{path}: ожидается {{"77": {{"period": "2020Q2", "values": '
                         '{"E4.03": 41.5}}}, …}')
    return data


def _returned_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*")
                            if p.is_file() and not p.name.startswith((".", "~$")))
        elif path.is_file():
            files.append(path)
        else:
            raise CosXlError(f"Нет такого файла или папки: {path}")
    return files


@command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Returned workbooks or folders of them.")],
    output_format: Annotated[str, typer.Option(
        "--format", help="text (table), json (one document on stdout) or xlsx (report in --out).",
    )] = "text",
    out: Annotated[Optional[Path], typer.Option(help="Folder for the xlsx report.")] = None,
    annotate: Annotated[Optional[Path], typer.Option(
        help="Folder for annotated copies of the workbooks (the originals are not changed).")
    ] = None,
    key_file: Annotated[Optional[Path], typer.Option(
        help="File with the federal signing key (else env COS_XL_SIGNING_KEY).")] = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Accept templates signed with the development key.")] = False,
    previous: Annotated[Optional[Path], typer.Option(
        help='JSON of previous accepted figures: {"77": {"period": "2020Q2", "values": '
             '{"E4.03": 41.5}}}; overrides those prefilled in the templates.')] = None,
    workers: Annotated[Optional[int], typer.Option(
        help="Worker processes (default: 1 for a round's files, every core for thousands).")
    ] = None,
) -> None:
    """Validate returned workbooks: PASS, PASS_WITH_WARNINGS or FAIL per file (exit 1 if any
    fails)."""
    import json as jsonlib

    from cos_xl.validate.annotate import annotate as annotate_file
    from cos_xl.validate.report import print_table, to_json, write_xlsx_report
    from cos_xl.validate.run import validate_files

    if output_format not in ("text", "json", "xlsx"):
        raise _fail(CosXlError(f"--format: ожидается text, json или xlsx, а не {output_format!r}"))
    if output_format == "xlsx" and out is None:
        raise _fail(CosXlError("--format xlsx: укажите папку отчёта --out"))
    try:
        key = resolve_key(key_file, dev_key)
        files = _returned_files(paths)
        if not files:
            raise CosXlError(f"Нет файлов для проверки в {', '.join(map(str, paths))} "
                             "(no files found)")
        previous_figures = _load_previous(previous) if previous else None
    except CosXlError as exc:
        raise _fail(exc) from exc
    results = []
    with Progress(TextColumn("[bold]Проверка"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("{task.description}"), console=console,
                  transient=True) as progress:
        task = progress.add_task("", total=len(files))
        for result in validate_files(files, key, workers=workers, allow_dev_key=dev_key,
                                     previous=previous_figures):
            results.append(result)
            if annotate is not None:
                annotate_file(result, annotate, key)
            progress.update(task, advance=1, description=result.path.name)
    if output_format == "json":
        typer.echo(jsonlib.dumps(to_json(results), ensure_ascii=False, indent=1))
    elif output_format == "xlsx":
        report = out / "validation-report.xlsx"
        write_xlsx_report(results, report)
        console.print(f"Отчёт: {report}")
    else:
        print_table(results, Console())
    if any(r.verdict == "FAIL" for r in results):
        raise typer.Exit(1)


@command()
def macros(
    check: Annotated[bool, typer.Option(
        "--check", help="Only verify that the files are current (exit 1 when not).")] = False,
    directory: Annotated[Optional[Path], typer.Option(
        "--dir", help="Folder of the VBA sources; default: macros/ of this checkout.")] = None,
) -> None:
    """Write the VBA sources every .xlsm carries (COS_* wrappers and xlwings' modules)."""
    folder = directory or wrappers.macros_dir()
    stale = []
    for name, data in wrappers.expected_files().items():
        path = folder / name
        if check:
            if not path.is_file() or path.read_bytes() != data:
                stale.append(name)
        else:
            write_atomically(path, data)
    if check and stale:
        console.print(f"[red]Модули в {folder} устарели:[/] {', '.join(stale)}; выполните "
                      "cos-xl macros (the VBA sources are out of date)")
        raise typer.Exit(1)
    console.print(f"Модули VBA в {folder} {'актуальны' if check else 'записаны'}.")


@command("udf-selftest")
def udf_selftest(
    out: Annotated[Path, typer.Option(help="Where to write the .xlsm.")] = Path(
        "cos_udf_selftest.xlsm"),
) -> None:
    """Write a small .xlsm that shows in Excel whether the COS_* functions work there."""
    from cos_xl.template.selftest import build_selftest
    if out.suffix.lower() != ".xlsm":
        raise _fail(ValueError(f"{out}: нужен файл .xlsm (the self-test carries macros)"))
    write_atomically(out, build_selftest())
    console.print(f"Записан {out}: откройте его в Excel и посмотрите столбец «Итог».")


_DB_HELP = ("Ledger: a SQLite file (default ./cos-xl.sqlite), sqlite:///FILE or "
            "postgresql://USER:PASSWORD@HOST/DB (else env COS_XL_DB).")


@command()
def intake(
    paths: Annotated[list[Path], typer.Argument(help="Returned workbooks or folders of them.")],
    db: Annotated[Optional[str], typer.Option(help=_DB_HELP, envvar="COS_XL_DB")] = None,
    key_file: Annotated[Optional[Path], typer.Option(
        help="File with the federal signing key (else env COS_XL_SIGNING_KEY).")] = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Accept templates signed with the development key.")] = False,
    period: Annotated[Optional[str], typer.Option(
        help="Take only workbooks of this period; others are refused, not stored.")] = None,
) -> None:
    """Validate returned workbooks and record each as a new version in the ledger (exit 1 if
    any is not accepted). Files that are no workbook (letters, scans) are passed over."""
    from cos_xl.ledger import open_ledger
    from cos_xl.ledger.report import print_intake

    try:
        key = resolve_key(key_file, dev_key)
        only = Period.parse(period) if period is not None else None
        files = _returned_files(paths)
        if not files:
            raise CosXlError("Нет файлов для приёма (no files found)")
        ledger = open_ledger(db, create=True)
    except CosXlError as exc:
        raise _fail(exc) from exc
    if ledger.created:
        console.print(f"Создан новый реестр: {ledger.url}")
    with ledger, Progress(TextColumn("[bold]Приём"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TextColumn("{task.description}"),
                          console=console, transient=True) as progress:
        task = progress.add_task("", total=len(files))
        try:
            outcomes = ledger.intake(files, key, allow_dev_key=dev_key, period=only,
                                     on_outcome=lambda o:
                                     progress.update(task, advance=1, description=o.path.name))
        except CosXlError as exc:
            raise _fail(exc) from exc
    print_intake(outcomes, Console())
    if any(o.needs_attention for o in outcomes):
        raise typer.Exit(1)


@command()
def status(
    period: Annotated[str, typer.Option(help="Reporting period, e.g. 2020Q3.")],
    db: Annotated[Optional[str], typer.Option(help=_DB_HELP, envvar="COS_XL_DB")] = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="text (table) or json (one document on stdout).")] = "text",
    config: Annotated[Optional[Path], typer.Option(
        help="Campaign configuration (TOML): the deadline.")] = None,
) -> None:
    """Where each region of a period stands: not received, rejected, accepted; overdue."""
    import json as jsonlib

    from cos_xl.ledger import open_ledger
    from cos_xl.ledger.report import print_status
    from cos_xl.ledger.status import to_json

    if output_format not in ("text", "json"):
        raise _fail(CosXlError(f"--format: ожидается text или json, а не {output_format!r}"))
    try:
        explicit = load_campaign(config) if config is not None else None
        parsed = Period.parse(period)
        with open_ledger(db) as ledger:
            now = ledger.clock()
            registered = ledger.campaign(parsed)
            rows = ledger.status(parsed, explicit, now=now)
            unattributed = ledger.unattributed_count()
    except CosXlError as exc:
        raise _fail(exc) from exc
    campaign = explicit or (registered.campaign if registered else load_campaign(None))
    if registered is None and explicit is None:
        console.print(f"[yellow]Кампания {parsed} не зарегистрирована в реестре[/]: срок по "
                      "умолчанию, показаны все субъекты периода (зарегистрируйте: cos-xl "
                      "generate --db … или cos-xl campaign register).")
    if output_format == "json":
        typer.echo(jsonlib.dumps(to_json(parsed, rows, campaign, unattributed=unattributed,
                                         now=now), ensure_ascii=False, indent=1))
    else:
        print_status(rows, str(parsed), campaign.deadline(parsed), Console(), unattributed)


@command()
def consolidate(
    period: Annotated[str, typer.Option(help="Reporting period, e.g. 2020Q3.")],
    out: Annotated[Path, typer.Option(help="National workbook (.xlsx) to write.")],
    db: Annotated[Optional[str], typer.Option(help=_DB_HELP, envvar="COS_XL_DB")] = None,
    json_path: Annotated[Optional[Path], typer.Option(
        "--json", help="Also write the figures as JSON (schema cos-xl/national/1).")] = None,
    csv_path: Annotated[Optional[Path], typer.Option(
        "--csv", help="Also write the figures as CSV (safe against formula injection).")
    ] = None,
    config: Annotated[Optional[Path], typer.Option(
        help="Campaign configuration (TOML): targets and form of the period.")] = None,
) -> None:
    """National report from the latest accepted submission of each region."""
    from cos_xl.consolidate import consolidate_period, write_csv, write_json, write_xlsx
    from cos_xl.consolidate.console import print_national
    from cos_xl.consolidate.ledger_inputs import consolidation_inputs
    from cos_xl.ledger import open_ledger
    from cos_xl.spec import load_form

    try:
        parsed = Period.parse(period)
        with open_ledger(db) as ledger:
            registered = ledger.campaign(parsed)
            accepted, rejected = consolidation_inputs(ledger, parsed)
        campaign = (load_campaign(config) if config is not None else
                    registered.campaign if registered is not None else load_campaign(None))
        report = consolidate_period(load_form(campaign.form_for(parsed)), campaign, parsed,
                                    accepted, rejected)
        write_xlsx(report, out)
        if json_path is not None:
            write_json(report, json_path)
        if csv_path is not None:
            write_csv(report, csv_path)
    except CosXlError as exc:
        raise _fail(exc) from exc
    print_national(report, _wide_console())
    for path in (out, json_path, csv_path):
        if path is not None:
            console.print(f"Записано: {path}")


@command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the round writes.")] = Path(
        "demo-out"),
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data and mistakes.")] = 0,
    period: Annotated[str, typer.Option(help="Reporting period.")] = "2020Q3",
    through_libreoffice: Annotated[bool, typer.Option(
        "--through-libreoffice", help="Regions fill and save their files in LibreOffice "
        "headless (slower; needs libreoffice-calc-nogui and python3-uno).")] = False,
) -> None:
    """A whole reporting round on built-in synthetic data: generate, fill (with typical
    mistakes), intake, status, national report."""
    from cos_xl.consolidate.console import print_national
    from cos_xl.demo.round import run_demo
    from cos_xl.demo.sample import SYNTHETIC_NOTE
    from cos_xl.ledger.report import print_status

    out_console = _wide_console()
    out_console.print(f"[bold]Демонстрация: отчётный раунд {period}[/]. {SYNTHETIC_NOTE}")
    try:
        result = run_demo(out, seed=seed, period=period,
                          through_libreoffice=through_libreoffice,
                          step=lambda text: out_console.print(f"• {text}"))
    except CosXlError as exc:
        raise _fail(exc) from exc
    print_status(result.status, period, result.plan.deadline, out_console)
    print_national(result.report, out_console)
    total = sum(result.seconds.values())
    out_console.print(f"[bold]Готово за {total:.1f} с.[/] Файлы:")
    for label, path in result.paths.items():
        out_console.print(f"  {label}: {path}")


campaign_app = typer.Typer(no_args_is_help=True, help="The campaign of a period, kept in the "
                                                      "ledger.")
app.add_typer(campaign_app, name="campaign")


@campaign_app.command("register")
@handled
def campaign_register(
    period: Annotated[str, typer.Option(help="Reporting period, e.g. 2020Q3.")],
    db: Annotated[Optional[str], typer.Option(help=_DB_HELP, envvar="COS_XL_DB")] = None,
    config: Annotated[Optional[Path], typer.Option(
        help="Campaign configuration (TOML): deadline, targets, form.")] = None,
    regions: Annotated[Optional[str], typer.Option(
        help="Comma-separated codes of the regions issued a template; default: every region "
             "of the period.")] = None,
    key_file: Annotated[Optional[Path], typer.Option(
        help="File with the federal signing key (else env COS_XL_SIGNING_KEY).")] = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="The templates were signed with the development key.")] = False,
) -> None:
    """Record a period's campaign (deadline, targets, regions issued, key) in the ledger, for
    templates generated without --db."""
    key = resolve_key(key_file, dev_key)
    campaign = load_campaign(config)
    parsed = Period.parse(period)
    selected = select_regions(_parse_regions(regions), parsed.year, parsed.quarter)
    _register(db, parsed, campaign, [r.code for r in selected], key)


ledger_app = typer.Typer(no_args_is_help=True, help="The ledger itself: create it, list and "
                                                    "remove unidentified files.")
app.add_typer(ledger_app, name="ledger")


@ledger_app.command("init")
@handled
def ledger_init(
    db: Annotated[Optional[str], typer.Option(help=_DB_HELP, envvar="COS_XL_DB")] = None,
) -> None:
    """Create an empty ledger (or bring an existing one's schema up to date)."""
    from cos_xl.ledger import open_ledger
    with open_ledger(db, create=True) as ledger:
        if ledger.created:
            console.print(f"Создан новый реестр: {ledger.url}")
        else:
            console.print(f"Реестр уже существует: {ledger.url} (схема актуальна)")


@ledger_app.command("unidentified")
@handled
def ledger_unidentified(
    db: Annotated[Optional[str], typer.Option(help=_DB_HELP, envvar="COS_XL_DB")] = None,
    remove: Annotated[Optional[list[int]], typer.Option(
        "--remove", metavar="НОМЕР",
        help="Remove the unidentified record with this number (repeat for several).")] = None,
) -> None:
    """List the files kept as unidentified (no valid template manifest), or remove some."""
    from cos_xl.ledger import open_ledger
    from cos_xl.ledger.report import print_unidentified
    with open_ledger(db) as ledger:
        if remove:
            removed = ledger.remove_unattributed(remove)
            console.print(f"Удалено записей: {len(removed)} ({', '.join(map(str, removed))})")
            missing = sorted(set(remove) - set(removed))
            if missing:
                raise fail(f"Нет неопознанных записей с номерами {', '.join(map(str, missing))}")
            return
        print_unidentified(ledger.unattributed(), Console())


if __name__ == "__main__":
    app()
