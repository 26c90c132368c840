"""The ``cos-xl`` help in Russian, as the rest of its output: the words Typer's help screens use
(usage line, panel titles, the ``--help`` option, required and default marks), readable
metavars (``ФАЙЛ``, ``ПАПКА``, never ``<bool>`` or ``{paths}...``).

The command and option texts themselves are written in Russian in :mod:`cos_xl.cli`; this module
only supplies Typer's own words, through its documented ``cls=`` hooks and its ``rich_utils``
settings. A test reads every command's help and fails on an English word left over.
"""

from __future__ import annotations

import re
from typing import Any

import typer.rich_utils as rich_utils
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

USAGE = "Запуск: "
HELP = "Показать эту справку и выйти."

rich_utils.ARGUMENTS_PANEL_TITLE = "Аргументы"
rich_utils.OPTIONS_PANEL_TITLE = "Параметры"
rich_utils.COMMANDS_PANEL_TITLE = "Команды"
rich_utils.ERRORS_PANEL_TITLE = "Ошибка"
rich_utils.REQUIRED_LONG_STRING = "[обязательный]"
rich_utils.DEFAULT_STRING = "[по умолчанию: {}]"
rich_utils.ENVVAR_STRING = "[переменная окружения: {}]"
rich_utils.DEPRECATED_STRING = "(устарело) "
rich_utils.ABORTED_TEXT = "Прервано."
rich_utils.RICH_HELP = "Справка: [blue]'{command_path} {help_option}'[/]"


def _plain_flags(params: list[Any]) -> None:
    """A flag takes no value: show no type beside it (Typer would print ``<bool>``); an
    argument with a metavar shows just that (not ``{paths}...`` and ``<list[Path]>``)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif getattr(param, "param_type_name", "") == "argument" and param.metavar:
            shown = param.metavar
            param.get_usage_pieces = lambda ctx, shown=shown: [shown]
            param.display_type_rich = lambda ctx: ""


#: Typer's messages for a command line it cannot parse, and how to say them in Russian
_ERRORS = [
    (re.compile(r"Missing option '(.+?)'\.?$"), "Не указан обязательный параметр {0}."),
    (re.compile(r"Missing argument '(.+?)'\.?$"), "Не указан обязательный аргумент {0}."),
    (re.compile(r"No such option: (\S+?)\.? Did you mean (.+?)\?$"),
     "Нет такого параметра: {0}. Возможно, имелся в виду {1}?"),
    (re.compile(r"No such option: (\S+?) \(Possible options: (.+?)\)$"),
     "Нет такого параметра: {0}. Возможно, имелся в виду {1}?"),
    (re.compile(r"No such option: (\S+?)\.?$"), "Нет такого параметра: {0}."),
    (re.compile(r"Invalid value for '(.+?)': (.+)$", re.S), "Неверное значение {0}: {1}"),
    (re.compile(r"Got unexpected extra arguments? \((.+)\)$"), "Лишние аргументы: {0}."),
    (re.compile(r"Option '(.+?)' requires an argument\.?$"), "Параметру {0} нужно значение."),
    (re.compile(r"No such command '(.+?)'\. Did you mean '(.+?)'\?$"),
     "Нет такой команды: {0}. Возможно, имелась в виду {1}?"),
    (re.compile(r"No such command '(.+?)'\.?$"), "Нет такой команды: {0}."),
]


def russian_error(message: str) -> str:
    """Typer's parsing error in Russian (unchanged when it is not one of the known ones)."""
    for pattern, words in _ERRORS:
        match = pattern.match(message.strip())
        if match:
            return words.format(*match.groups())
    return message


def _translated(exc: UsageError) -> UsageError:
    return UsageError(russian_error(exc.format_message()), ctx=exc.ctx)


class _Russian:
    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except UsageError as exc:
            raise _translated(exc) from None

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)),
                              prefix=USAGE)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP
            option.metavar = ""
        return option


class RuCommand(_Russian, TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = "[ПАРАМЕТРЫ]"
        super().__init__(*args, **kwargs)
        _plain_flags(self.params)


class RuGroup(_Russian, TyperGroup):
    def resolve_command(self, ctx, args):
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            raise _translated(exc) from None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["options_metavar"] = "[ПАРАМЕТРЫ]"
        kwargs["subcommand_metavar"] = "КОМАНДА [АРГУМЕНТЫ]..."
        super().__init__(*args, **kwargs)
        _plain_flags(self.params)
