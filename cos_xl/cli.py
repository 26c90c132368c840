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
from cos_xl.cli_ru import RuCommand, RuGroup
from cos_xl.errors import CosXlError
from cos_xl.generate import generate as generate_round
from cos_xl.files import write_atomically
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.regions import select_regions
from cos_xl.signing import resolve_key
from cos_xl.units import load_units
from cos_xl.vba import wrappers

app = typer.Typer(
    name="cos-xl", no_args_is_help=True, add_completion=False, cls=RuGroup,
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
        return app.command(*args, cls=RuCommand, **kwargs)(handled(function))
    return register


def sub_app(name: str, help_text: str) -> typer.Typer:
    """A group of commands, ``cos-xl NAME …``, with the Russian help."""
    group = typer.Typer(no_args_is_help=True, cls=RuGroup, help=help_text)
    app.add_typer(group, name=name)
    return group


def subcommand(group: typer.Typer, name: str):
    """``@group.command(name)`` with the one error handler and the Russian help."""
    def register(function):
        return group.command(name, cls=RuCommand)(handled(function))
    return register


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cos-xl {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Показать версию и выйти.")] = None,
         debug: Annotated[bool, typer.Option(
             "--debug", help="При ошибке показать трассировку Python (для разработчиков).")
         ] = False,
         ) -> None:
    """cos-xl: шаблоны, проверка, приём и национальная сводка по регионам."""
    state["debug"] = debug


# Options several commands share: one definition each.
PeriodOption = Annotated[str, typer.Option(
    metavar="ПЕРИОД", help="Отчётный период, например 2020Q3.")]
DbOption = Annotated[Optional[str], typer.Option(
    metavar="РЕЕСТР", envvar="COS_XL_DB",
    help="Реестр: файл SQLite (по умолчанию ./cos-xl.sqlite), sqlite:///ФАЙЛ или "
         "postgresql://ПОЛЬЗОВАТЕЛЬ:ПАРОЛЬ@СЕРВЕР/БАЗА.")]
KeyFileOption = Annotated[Optional[Path], typer.Option(
    metavar="ФАЙЛ", help="Файл с федеральным ключом подписи (иначе переменная "
                         "COS_XL_SIGNING_KEY).")]
AcceptDevKey = Annotated[bool, typer.Option(
    "--dev-key", help="Принимать шаблоны, подписанные ключом разработчика (для проб).")]
RegionsOption = Annotated[Optional[str], typer.Option(
    "--regions", "--region", metavar="КОДЫ", help="Коды субъектов через запятую, например 77,50; по умолчанию — все "
                         "субъекты периода.")]
FilesArgument = Annotated[list[Path], typer.Argument(
    metavar="ФАЙЛ_ИЛИ_ПАПКА...", help="Присланные книги или папки с ними.")]


def _parse_regions(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


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
                  f"{quantity(len(found.units), 'МО/организация', 'МО/организации', 'МО/организаций')}, "
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
) -> None:
    """Где каждый субъект периода: не получен, отклонён, принят; просрочен ли срок."""
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
    out: Annotated[Path, typer.Option(
        metavar="ПАПКА", help="Папка для всего, что пишет раунд.")] = Path(
        "demo-out"),
    seed: Annotated[int, typer.Option(
        metavar="ЧИСЛО", help="Зерно синтетических данных и ошибок регионов.")] = 0,
    period: Annotated[str, typer.Option(metavar="ПЕРИОД", help="Отчётный период.")] = "2020Q3",
    through_libreoffice: Annotated[bool, typer.Option(
        "--through-libreoffice", help="Регионы заполняют и сохраняют файлы в LibreOffice "
        "(медленнее; нужны libreoffice-calc-nogui и python3-uno).")] = False,
) -> None:
    """Весь отчётный раунд на встроенных синтетических данных: шаблоны, заполнение (с
    типичными ошибками), приём, статус, национальная сводка."""
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


# --- the web intake: cos-xl serve, upload links, federal accounts ------------------------------

@command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(
        metavar="АДРЕС", help="Адрес, на котором слушать (за обратным прокси — 127.0.0.1).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="ПОРТ", help="Порт.")] = 8000,
    key_file: KeyFileOption = None,
    dev_key: AcceptDevKey = False,
    config: Annotated[Optional[Path], typer.Option(
        metavar="ФАЙЛ", help="Настройки кампании (TOML) вместо записанных в реестре.")] = None,
    workers: Annotated[Optional[int], typer.Option(
        metavar="ЧИСЛО", help="Процессов проверки файлов (по умолчанию — по числу ядер).")
    ] = None,
    timeout: Annotated[float, typer.Option(
        metavar="СЕКУНДЫ", help="Предел времени обработки одного файла; процесс, не "
                                "уложившийся в него, останавливается.")] = 60.0,
    max_upload: Annotated[float, typer.Option(
        metavar="МБ", help="Предел размера загружаемого файла, МБ.")] = 20.0,
    spool_dir: Annotated[Optional[Path], typer.Option(
        metavar="ПАПКА", help="Папка для файлов, ждущих проверки (по умолчанию — временная).")
    ] = None,
    proxy_headers: Annotated[bool, typer.Option(
        "--proxy-headers", help="Доверять заголовкам X-Forwarded-Proto и X-Forwarded-For от "
                                "обратного прокси (HTTPS: защищённые cookie).")] = False,
    forwarded_allow_ips: Annotated[str, typer.Option(
        metavar="АДРЕСА", help="Адреса прокси, чьим заголовкам доверять (через запятую).")
    ] = "127.0.0.1",
) -> None:
    """Веб-приём: регионы загружают отчёты по своей ссылке и сразу видят итог проверки,
    федеральная команда видит статус и сводку (останов — Ctrl+C)."""
    import uvicorn

    from cos_xl.ledger import DEFAULT_DB, open_ledger
    from cos_xl.web.app import ServeSettings, create_app
    from cos_xl.web.worker import default_workers

    key = resolve_key(key_file, dev_key)
    if config is not None:
        load_campaign(config)  # refuse a bad file before starting
    if max_upload <= 0 or timeout <= 0 or (workers is not None and workers < 1):
        raise fail("--max-upload, --timeout и --workers должны быть больше нуля")
    with open_ledger(db, create=True) as ledger:
        url = ledger.url
        if ledger.created:
            console.print(f"Создан новый реестр: {url}")
        if not ledger.access.users():
            console.print("[yellow]Нет ни одной учётной записи федеральной команды[/]: "
                          f"создайте её командой cos-xl users add ИМЯ --db {db or url}")
    if key.dev:
        console.print("[yellow]Ключ разработчика: только для проб, не для настоящей "
                      "отчётности.[/]")
    settings = ServeSettings(
        db=db or DEFAULT_DB, key=key, allow_dev_key=dev_key, campaign_file=config,
        upload_limit=int(max_upload * (1 << 20)), timeout=timeout,
        workers=workers or default_workers(), spool_dir=spool_dir)
    console.print(f"Веб-приём: http://{host}:{port}/ (реестр {url}, процессов проверки "
                  f"{settings.workers})")
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=proxy_headers,
                forwarded_allow_ips=forwarded_allow_ips, access_log=False,
                server_header=False, log_config=_web_log_config())


def _web_log_config() -> dict:
    """uvicorn's own messages and our access log (secrets cut out) to standard error."""
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "stream": "ext://sys.stderr"}},
        "loggers": {name: {"handlers": ["stderr"], "level": "INFO", "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "cos_xl.web")},
    }


tokens_app = sub_app("tokens", "Ссылки субъектов для веб-приёма: выдать, отозвать, показать.")


@subcommand(tokens_app, "issue")
def tokens_issue(
    period: PeriodOption,
    out: Annotated[Path, typer.Option(
        metavar="ФАЙЛ", help="Новый CSV region_code,token,url: единственное место, где видны "
                             "ключи; разошлите ссылки субъектам и храните файл как пароль.")],
    db: DbOption = None,
    regions: Annotated[Optional[str], typer.Option(
        metavar="КОДЫ", help="Коды субъектов через запятую; по умолчанию — субъекты кампании "
                             "периода (или все субъекты периода).")] = None,
    base_url: Annotated[str, typer.Option(
        metavar="АДРЕС", help="Адрес сервера в ссылках, например https://cos.example.ru")
    ] = "http://127.0.0.1:8000",
    replace: Annotated[bool, typer.Option(
        "--replace", help="Выдать новые ссылки вместо действующих (старые перестанут "
                          "действовать).")] = False,
) -> None:
    """Выдать субъектам секретные ссылки на отправку отчёта за период (в реестре хранятся
    только их хэши)."""
    import csv
    import io

    from cos_xl.ledger import open_ledger
    parsed = Period.parse(period)
    if out.exists():  # it may hold secrets issued before, kept nowhere else
        raise fail(f"{out}: файл уже существует — в нём могут быть выданные ранее ссылки, "
                   "которые больше нигде не хранятся; укажите другой файл")
    with open_ledger(db) as ledger:
        if regions:
            codes = [r.code for r in select_regions(_parse_regions(regions), parsed.year,
                                                    parsed.quarter)]
        else:
            registered = ledger.campaign(parsed)
            codes = list(registered.regions) if registered is not None else [
                r.code for r in select_regions(None, parsed.year, parsed.quarter)]
        issued = ledger.access.issue_links(parsed, codes, replace=replace)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["region_code", "token", "url"])
    for code, secret in sorted(issued.items()):
        writer.writerow([code, secret, f"{base_url.rstrip('/')}/r/{secret}"])
    write_atomically(out, text.getvalue().encode("utf-8"))
    out.chmod(0o600)
    console.print(f"Выдано ссылок: {len(issued)} за {parsed} → {out} (файл доступен только "
                  "владельцу)")


@subcommand(tokens_app, "revoke")
def tokens_revoke(
    period: PeriodOption,
    db: DbOption = None,
    regions: Annotated[Optional[str], typer.Option(
        metavar="КОДЫ", help="Коды субъектов через запятую; по умолчанию — все ссылки "
                             "периода.")] = None,
) -> None:
    """Отозвать ссылки субъектов за период: по ним больше нельзя ни отправить отчёт, ни
    посмотреть присланное."""
    from cos_xl.ledger import open_ledger
    parsed = Period.parse(period)
    with open_ledger(db) as ledger:
        revoked = ledger.access.revoke_links(parsed, _parse_regions(regions))
    console.print(f"Отозвано ссылок: {len(revoked)}"
                  + (f" ({', '.join(revoked)})" if revoked else ""))


@subcommand(tokens_app, "list")
def tokens_list(
    db: DbOption = None,
    period: Annotated[Optional[str], typer.Option(
        metavar="ПЕРИОД", help="Только ссылки этого периода.")] = None,
) -> None:
    """Показать выданные ссылки (без ключей): субъект, период, когда выдана и отозвана."""
    from rich.table import Table

    from cos_xl.ledger import open_ledger
    from cos_xl.web.format import moment
    with open_ledger(db) as ledger:
        links = ledger.access.links(Period.parse(period) if period else None)
    table = Table(title="Ссылки субъектов")
    for column in ("Период", "Код", "Выдана (МСК)", "Отозвана (МСК)"):
        table.add_column(column)
    for link in links:
        table.add_row(link.period, link.region_code, moment(link.issued_at),
                      moment(link.revoked_at))
    Console().print(table)


users_app = sub_app("users", "Учётные записи федеральной команды для веб-приёма.")


@subcommand(users_app, "add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="ИМЯ", help="Имя пользователя (латиница).")],
    db: DbOption = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Прочитать пароль из стандартного ввода (для сценариев), а "
                                 "не спрашивать.")] = False,
) -> None:
    """Создать учётную запись федеральной команды (пароль хранится как хэш argon2)."""
    from cos_xl.ledger import open_ledger
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Пароль (не короче 12 знаков)", hide_input=True,
                                confirmation_prompt="Пароль ещё раз")
    with open_ledger(db) as ledger:
        ledger.access.add_user(name, password)
    console.print(f"Создан пользователь {name}")


@subcommand(users_app, "list")
def users_list(db: DbOption = None) -> None:
    """Показать учётные записи федеральной команды."""
    from cos_xl.ledger import open_ledger
    from cos_xl.web.format import moment
    with open_ledger(db) as ledger:
        for user in ledger.access.users():
            typer.echo(f"{user.name}\tсоздан {moment(user.created_at)}")


@subcommand(users_app, "remove")
def users_remove(
    name: Annotated[str, typer.Argument(metavar="ИМЯ", help="Имя пользователя.")],
    db: DbOption = None,
) -> None:
    """Удалить учётную запись (и завершить её сеансы)."""
    from cos_xl.ledger import open_ledger
    with open_ledger(db) as ledger:
        if not ledger.access.remove_user(name):
            raise fail(f"Нет пользователя {name}")
    console.print(f"Удалён пользователь {name}")


if __name__ == "__main__":
    app()
