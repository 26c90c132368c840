"""The command's help is Russian, as its output, with readable metavars; so are the messages for
a command line it cannot parse."""

from __future__ import annotations

import re

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cos_xl.cli import app
from cos_xl.cli_ru import russian_error

runner = CliRunner()


def _commands(group, path=()):
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, (*path, name))


COMMANDS = list(_commands(get_command(app)))
ENGLISH = ["Usage", "Options", "Arguments", "Commands", "Show this message", "[required]",
           "default:", "env var", "<bool>", "<str>", "<path>", "<int>", "<list", "{paths}"]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "cos-xl")
def test_help_is_russian_with_readable_metavars(path):
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Запуск: cos-xl" in text and "Показать эту справку и выйти." in text
    for word in ENGLISH:
        assert word not in text, (path, word)
    # every described line of an option panel says something in Russian
    for line in text.splitlines():
        match = re.match(r"^│\s+(\*\s+)?(--[a-z-]+)\b(.*)│$", line)
        if match:
            assert re.search("[а-яё]", match.group(3), re.I), (path, line)


@pytest.mark.parametrize(("args", "words"), [
    (["status"], "Не указан обязательный параметр --period."),
    (["status", "--perod", "2020Q3"], "Нет такого параметра: --perod"),
    (["statos"], "Нет такой команды: statos. Возможно, имелась в виду status?"),
    (["status", "--period"], "Параметру --period нужно значение."),
    (["validate", "x", "--workers", "abc"], "Неверное значение --workers"),
])
def test_command_line_mistakes_are_told_in_russian(args, words):
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert words in " ".join(result.output.replace("│", " ").split())


def test_an_unknown_message_is_left_as_it_is():
    assert russian_error("Something new.") == "Something new."


def test_no_help_text_has_square_brackets_that_rich_would_swallow():
    """Rich reads «[rollup]» in a help text as markup and prints nothing in its place."""
    import click
    import typer.main

    from cos_xl.cli import app

    def walk(command: click.Command, path: str):
        yield path, command.help or ""
        for param in command.params:
            yield f"{path} {param.name}", getattr(param, "help", None) or ""
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")
    texts = list(walk(typer.main.get_command(app), "cos-xl"))
    assert len(texts) > 50
    assert [(where, text) for where, text in texts if "[" in text] == []
