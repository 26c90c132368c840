"""The web intake's commands: ``cos-xl serve``, regions' upload links (``tokens``) and federal
accounts (``users``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from cos_xl.campaign import load_campaign
from cos_xl.cli_app import (
    AcceptDevKey, DbOption, KeyFileOption, PeriodOption, command, console, fail, sub_app,
    parse_regions, subcommand,
)
from cos_xl.files import write_atomically
from cos_xl.periods import Period
from cos_xl.regions import select_regions
from cos_xl.signing import resolve_key


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
            codes = [r.code for r in select_regions(parse_regions(regions), parsed.year,
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
        revoked = ledger.access.revoke_links(parsed, parse_regions(regions))
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
