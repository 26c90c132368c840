"""What every ``cos-xl`` command shares: the application, the consoles, the one error handler,
the decorators that register commands with the Russian help, and the options several commands
take. The commands live in :mod:`cos_xl.cli` and :mod:`cos_xl.cli_web`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from cos_xl import __version__
from cos_xl.cli_errors import fail, handled, state
from cos_xl.cli_ru import RuCommand, RuGroup

app = typer.Typer(
    name="cos-xl", no_args_is_help=True, add_completion=False, cls=RuGroup,
    help="Отчётность федерального проекта «Цифровая образовательная среда» на книгах Excel.",
)
console = Console(stderr=True)


def wide_console() -> Console:
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
    "--regions", "--region", metavar="КОДЫ",
    help="Коды субъектов через запятую, например 77,50; по умолчанию — все "
                         "субъекты периода.")]
FilesArgument = Annotated[list[Path], typer.Argument(
    metavar="ФАЙЛ_ИЛИ_ПАПКА...", help="Присланные книги или папки с ними.")]


def parse_regions(text: str | None) -> list[str] | None:
    """``--regions 77,50`` as codes; None for every region."""
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]
