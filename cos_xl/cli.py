"""The ``cos-xl`` command: a thin layer that parses options, calls the library and turns
library errors into short messages with exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cos_xl.campaign import load_campaign
from cos_xl.cli_errors import fail
from cos_xl.errors import CosXlError
from cos_xl.generate import generate as generate_round
from cos_xl.files import write_atomically
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.regions import select_regions
from cos_xl.signing import resolve_key
from cos_xl.units import how_many, load_units
from cos_xl.vba import wrappers

from cos_xl.cli_app import (  # noqa: F401  (app: the entry point cos_xl.cli:app)
    AcceptDevKey, DbOption, FilesArgument, KeyFileOption, PeriodOption, RegionsOption, _fail, app,
    command, console, sub_app, subcommand, wide_console,
)
from cos_xl.cli_app import parse_regions as _parse_regions


@command()
def generate(
    period: PeriodOption,
    out: Annotated[Path, typer.Option(
        metavar="ПАПКА", help="Папка для шаблонов (создаётся, если её нет).")],
    regions: RegionsOption = None,
    config: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help="Настройки кампании (TOML): срок, цели, контакт.")] = None,
    key_file: KeyFileOption = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Подписать ключом разработчика (только для проб, не для рассылки).")
    ] = False,
    no_macros: Annotated[bool, typer.Option(
        "--no-macros", help="Записать .xlsx без макросов (те же ячейки, без функций COS_*).")
    ] = False,
    previous_from: Annotated[Optional[str], typer.Option(
        "--previous-from", metavar="РЕЕСТР",
        help="Реестр, из которого подставить принятые значения предыдущего периода.")
    ] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Заменить шаблоны, которые уже есть в папке и отличаются (они могли "
        "быть разосланы).")] = False,
    db: Annotated[Optional[str], typer.Option(
        metavar="РЕЕСТР", help="Записать кампанию (период, срок, цели, субъекты, отпечаток "
        "ключа) в этот реестр; он должен существовать (cos-xl ledger init).")] = None,
    units_file: Annotated[Optional[Path], typer.Option(
        "--units", metavar="ФАЙЛ", help="Список МО/организаций субъекта (CSV unit_id,name,kind)"
        ": по шаблону на каждую, для сбора внутри субъекта (с --region).")] = None,
) -> None:
    """Сформировать защищённые шаблоны периода, по одному на субъект (.xlsm по умолчанию);
    с --units — по одному на МО/организацию субъекта."""
    try:
        key = resolve_key(key_file, dev_key)
        campaign = load_campaign(config)
        parsed = Period.parse(period)
        selected = select_regions(_parse_regions(regions), parsed.year, parsed.quarter)
        units = None
        if units_file is not None:
            units = load_units(units_file)
            if regions is None or len(selected) != 1:
                raise CosXlError("С --units укажите один субъект: --region КОД (например, "
                                 "--region 77)")
            if previous_from:
                raise CosXlError("--previous-from подставляет значения субъектов и с --units не "
                                 "используется")
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
            task = progress.add_task("", total=len(units or selected), period=str(parsed))
            result = generate_round(
                parsed, out, key, campaign=campaign, regions=[r.code for r in selected],
                macros=not no_macros, previous=previous, force=force, units=units,
                on_progress=lambda owner, _path: progress.update(
                    task, advance=1, description=getattr(owner, "unit_id", None) or owner.code),
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
    if db is not None and units is not None:
        _register_units(db, parsed, selected[0], units, campaign, key)
    elif db is not None:
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


def _register_units(db: str, period: Period, region, units, campaign, key) -> None:
    from cos_xl.ledger import open_ledger
    with open_ledger(db) as ledger:
        found = ledger.register_units(period, region.code, units, campaign, key)
        url = ledger.url
    console.print(f"Сбор {period} по субъекту {region.full_name} записан в реестр {url}: "
                  f"{how_many(len(found.units))}, "
                  f"ключ {found.key_fingerprint}")


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
    paths: FilesArgument,
    output_format: Annotated[str, typer.Option(
        "--format", metavar="ФОРМАТ",
        help="text — таблица, json — документ в стандартный вывод, xlsx — отчёт в --out.",
    )] = "text",
    out: Annotated[Optional[Path], typer.Option(
        metavar="ПАПКА", help="Папка для отчёта validation-report.xlsx.")] = None,
    annotate: Annotated[Optional[Path], typer.Option(
        metavar="ПАПКА", help="Папка для копий книг с замечаниями (исходные файлы не "
                              "меняются).")] = None,
    key_file: KeyFileOption = None,
    dev_key: AcceptDevKey = False,
    previous: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help='JSON предыдущих принятых значений: {"77": {"period": "2020Q2", '
        '"values": {"E4.03": 41.5}}}; заменяет подставленные в шаблоны.')] = None,
    workers: Annotated[Optional[int], typer.Option(
        metavar="ЧИСЛО", help="Число процессов (по умолчанию 1 для раунда, все ядра для "
                              "тысяч файлов).")] = None,
) -> None:
    """Проверить присланные книги: принят, принят с предупреждениями или не принят (код
    выхода 1, если хоть один не принят)."""
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
        "--check", help="Только проверить, что файлы актуальны (код выхода 1, если нет).")
    ] = False,
    directory: Annotated[Optional[Path], typer.Option(
        "--dir", metavar="ПАПКА", help="Папка исходников VBA; по умолчанию macros/ проекта.")
    ] = None,
) -> None:
    """Записать исходники VBA, которые несёт каждый .xlsm (обёртки COS_* и модули
    xlwings)."""
    folder = (directory or wrappers.macros_dir()) if check else wrappers.writable_macros_dir(
        directory)
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
    out: Annotated[Path, typer.Option(metavar="ФАЙЛ", help="Куда записать .xlsm.")] = Path(
        "cos_udf_selftest.xlsm"),
) -> None:
    """Записать небольшой .xlsm, который покажет в Excel, работают ли там функции COS_*."""
    from cos_xl.template.selftest import build_selftest
    if out.suffix.lower() != ".xlsm":
        raise _fail(ValueError(f"{out}: нужен файл .xlsm (the self-test carries macros)"))
    write_atomically(out, build_selftest())
    console.print(f"Записан {out}: откройте его в Excel и посмотрите столбец «Итог».")



@command()
def intake(
    paths: FilesArgument,
    db: DbOption = None,
    key_file: KeyFileOption = None,
    dev_key: AcceptDevKey = False,
    period: Annotated[Optional[str], typer.Option(
        metavar="ПЕРИОД", help="Принимать только книги этого периода; другие не сохраняются.")
    ] = None,
) -> None:
    """Проверить присланные книги и записать каждую в реестр новой версией (код выхода 1,
    если какая-то не принята). Файлы, которые не являются книгами (письма, сканы),
    пропускаются. Создаёт реестр, если его нет."""
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
    period: PeriodOption,
    db: DbOption = None,
    output_format: Annotated[str, typer.Option(
        "--format", metavar="ФОРМАТ", help="text — таблица, json — документ в стандартный "
                                           "вывод.")] = "text",
    config: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help="Настройки кампании (TOML) вместо записанных в реестре.")] = None,
    region: Annotated[Optional[str], typer.Option(
        metavar="КОД", help="Показать МО/организации этого субъекта (сбор внутри субъекта, "
                            "cos-xl generate --units), а не субъекты.")] = None,
) -> None:
    """Где каждый субъект периода (с --region — каждая МО/организация субъекта): не получен,
    отклонён, принят; просрочен ли срок."""
    import json as jsonlib

    from cos_xl.ledger import open_ledger
    from cos_xl.ledger.report import print_status
    from cos_xl.ledger.status import to_json

    if output_format not in ("text", "json"):
        raise _fail(CosXlError(f"--format: ожидается text или json, а не {output_format!r}"))
    if region is not None:
        from cos_xl.ledger.unit_status import print_unit_status, unit_status, units_json
        explicit = load_campaign(config) if config is not None else None
        with open_ledger(db) as ledger:
            now = ledger.clock()
            found = unit_status(ledger, Period.parse(period), region, explicit, now=now)
        if found.registered is None:
            console.print(f"[yellow]Список МО/организаций субъекта {found.region_code} за "
                          f"{found.period} не записан в реестре[/]: показаны только приславшие "
                          "отчёт (запишите: cos-xl generate --units … --db …).")
        if output_format == "json":
            typer.echo(jsonlib.dumps(units_json(found, now=now), ensure_ascii=False, indent=1))
        else:
            print_unit_status(found, wide_console())
        return
    try:
        explicit = load_campaign(config) if config is not None else None
        parsed = Period.parse(period)
        with open_ledger(db) as ledger:
            now = ledger.clock()
            registered = ledger.campaign(parsed)
            rows = ledger.status(parsed, explicit, now=now)
            unattributed = ledger.unattributed_count()
            if explicit is None:
                _refuse_a_units_ledger(ledger, parsed, registered, "status")
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


def _refuse_a_units_ledger(ledger, period: Period, registered, command_name: str) -> None:
    """A region's own ledger of its units' returns holds no region's return: ``status`` would
    list 85 regions «не получен», ``consolidate`` write an empty national report. Say so."""
    if registered is not None or ledger.overview(period):
        return
    collecting = ledger.regions_collecting(period)
    if collecting:
        advice = (f"cos-xl status --period {period} --region {collecting[0]}"
                  if command_name == "status" else
                  f"cos-xl rollup --period {period} --region {collecting[0]} …")
        raise CosXlError(f"В реестре {ledger.url} за {period} нет отчётов субъектов, только "
                         f"сбор с МО/организаций субъекта {', '.join(collecting)}: это реестр "
                         f"сбора внутри субъекта. Нужно, вероятно: {advice}")


@command()
def consolidate(
    period: PeriodOption,
    out: Annotated[Path, typer.Option(
        metavar="ФАЙЛ", help="Национальная сводка (.xlsx), которую записать.")],
    db: DbOption = None,
    json_path: Annotated[Optional[Path], typer.Option(
        "--json", metavar="ФАЙЛ", help="Также записать значения в JSON (схема "
                                       "cos-xl/national/1).")] = None,
    csv_path: Annotated[Optional[Path], typer.Option(
        "--csv", metavar="ФАЙЛ", help="Также записать значения в CSV (защищён от внедрения "
                                      "формул).")] = None,
    config: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help="Настройки кампании (TOML) вместо записанных в реестре.")] = None,
) -> None:
    """Национальная сводка по последней принятой версии каждого субъекта."""
    from cos_xl.consolidate import consolidate_period, write_csv, write_json, write_xlsx
    from cos_xl.consolidate.console import print_national
    from cos_xl.consolidate.ledger_inputs import consolidation_inputs
    from cos_xl.ledger import open_ledger
    from cos_xl.spec import load_form

    try:
        parsed = Period.parse(period)
        with open_ledger(db) as ledger:
            registered = ledger.campaign(parsed)
            _refuse_a_units_ledger(ledger, parsed, registered, "consolidate")
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
    print_national(report, wide_console())
    for path in (out, json_path, csv_path):
        if path is not None:
            console.print(f"Записано: {path}")


@command()
def rollup(
    period: PeriodOption,
    region: Annotated[str, typer.Option(
        metavar="КОД", help="Код субъекта, например 77.")],
    template: Annotated[Path, typer.Option(
        metavar="ФАЙЛ", help="Шаблон субъекта, полученный от федерального оператора "
                             "(cos_ПЕРИОД_КОД.xlsm).")],
    out: Annotated[Path, typer.Option(
        metavar="ПАПКА", help="Папка для заполненного отчёта субъекта (не папка шаблона).")],
    db: DbOption = None,
    config: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help="Настройки кампании (TOML) с разделом «rollup» (ответственный) "
                             "вместо записанных в реестре.")] = None,
    allow_missing: Annotated[bool, typer.Option(
        "--allow-missing", help="Собрать неполный свод, если не все МО/организации прислали "
                                "принятые отчёты (они будут отмечены; код выхода 1).")] = False,
) -> None:
    """Заполнить шаблон субъекта суммами принятых отчётов МО/организаций и добавить лист
    «Свод по МО»: откуда взято каждое значение."""
    from cos_xl.ledger import open_ledger
    from cos_xl.rollup.console import print_rollup
    from cos_xl.rollup.run import UnitsMissing
    from cos_xl.rollup.run import rollup as roll_up_region

    try:
        parsed = Period.parse(period)
        campaign = load_campaign(config) if config is not None else None
        with open_ledger(db) as ledger:
            result = roll_up_region(ledger, parsed, region.strip(), template, out,
                                    campaign=campaign, allow_missing=allow_missing)
    except UnitsMissing as exc:
        console.print(f"[bold red]Свод не собран:[/] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    except CosXlError as exc:
        raise _fail(exc) from exc
    print_rollup(result, wide_console())
    if result.table.missing:
        raise typer.Exit(1)


@command()
def demo(
    out: Annotated[Path, typer.Option(
        metavar="ПАПКА",
        help="Папка для всего, что пишет раунд (с --units по умолчанию demo-units-out).")
    ] = Path("demo-out"),
    seed: Annotated[int, typer.Option(
        metavar="ЧИСЛО", help="Зерно синтетических данных и ошибок регионов.")] = 0,
    period: Annotated[str, typer.Option(metavar="ПЕРИОД", help="Отчётный период.")] = "2020Q3",
    through_libreoffice: Annotated[bool, typer.Option(
        "--through-libreoffice", help="Регионы заполняют и сохраняют файлы в LibreOffice "
        "(медленнее; нужны libreoffice-calc-nogui и python3-uno).")] = False,
    units: Annotated[bool, typer.Option(
        "--units", help="Раунд внутри субъекта: сбор отчётов МО и свод в отчёт субъекта "
                        "(cos-xl rollup).")] = False,
    region: Annotated[str, typer.Option(
        metavar="КОД", help="С --units: субъект (есть синтетические МО для 77, 16, 54).")] = "77",
) -> None:
    """Весь отчётный раунд на встроенных синтетических данных: шаблоны, заполнение (с
    типичными ошибками), приём, статус, национальная сводка; с --units — сбор с МО одного
    субъекта и свод."""
    from cos_xl.consolidate.console import print_national
    from cos_xl.demo.round import run_demo
    from cos_xl.demo.sample import SYNTHETIC_NOTE
    from cos_xl.ledger.report import print_status

    out_console = wide_console()
    if units:  # its own default folder: the national demo's stays as it is
        _demo_units(Path("demo-units-out") if out == Path("demo-out") else out, region.strip(),
                    period, out_console)
        return
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


def _demo_units(out: Path, region: str, period: str, out_console) -> None:
    from cos_xl.demo.sample import SYNTHETIC_NOTE
    from cos_xl.demo.units_round import run_units_demo
    from cos_xl.rollup.console import print_rollup

    out_console.print(f"[bold]Демонстрация: сбор {period} с МО субъекта {region} и свод[/]. "
                      f"{SYNTHETIC_NOTE}")
    try:
        result = run_units_demo(out, region_code=region, period=period,
                                step=lambda text: out_console.print(f"• {text}"))
    except CosXlError as exc:
        raise _fail(exc) from exc
    print_rollup(result.result, out_console)
    out_console.print(f"[bold]Готово за {result.seconds:.1f} с.[/] Файлы:")
    for label, path in result.paths.items():
        out_console.print(f"  {label}: {path}")


campaign_app = sub_app("campaign", "Кампания периода, записанная в реестре.")


@subcommand(campaign_app, "register")
def campaign_register(
    period: PeriodOption,
    db: DbOption = None,
    config: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help="Настройки кампании (TOML): срок, цели, форма.")] = None,
    regions: Annotated[Optional[str], typer.Option(
        metavar="КОДЫ", help="Коды субъектов, которым выданы шаблоны, через запятую; по "
                             "умолчанию — все субъекты периода.")] = None,
    key_file: KeyFileOption = None,
    dev_key: Annotated[bool, typer.Option(
        "--dev-key", help="Шаблоны подписаны ключом разработчика.")] = False,
) -> None:
    """Записать кампанию периода (срок, цели, субъекты, ключ) в реестр — для шаблонов,
    сформированных без --db."""
    key = resolve_key(key_file, dev_key)
    campaign = load_campaign(config)
    parsed = Period.parse(period)
    selected = select_regions(_parse_regions(regions), parsed.year, parsed.quarter)
    _register(db, parsed, campaign, [r.code for r in selected], key)


ledger_app = sub_app("ledger", "Сам реестр: создать, показать и удалить неопознанные файлы.")


@subcommand(ledger_app, "init")
def ledger_init(
    db: DbOption = None,
) -> None:
    """Создать пустой реестр (или обновить схему существующего)."""
    from cos_xl.ledger import open_ledger
    with open_ledger(db, create=True) as ledger:
        if ledger.created:
            console.print(f"Создан новый реестр: {ledger.url}")
        else:
            console.print(f"Реестр уже существует: {ledger.url} (схема актуальна)")


@subcommand(ledger_app, "unidentified")
def ledger_unidentified(
    db: DbOption = None,
    remove: Annotated[Optional[list[int]], typer.Option(
        "--remove", metavar="НОМЕР",
        help="Удалить неопознанную запись с этим номером (можно повторять).")] = None,
) -> None:
    """Показать файлы, сохранённые как неопознанные (без верного манифеста), или удалить
    их."""
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


import cos_xl.cli_web  # noqa: E402,F401  (registers serve, tokens, users)

if __name__ == "__main__":
    app()
