"""The one error handler of the ``cos-xl`` command: what cannot go on becomes one Russian line
naming the path, and exit status 2; ``--debug`` shows the traceback instead.

Library errors (:class:`cos_xl.errors.CosXlError`) carry their own message. Errors of the system
(permission denied, disk full, a path that is a file, a read-only folder) arrive as ``OSError``,
sometimes wrapped by a library (XlsxWriter's ``FileCreateError``); they are told by their errno.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from cos_xl.errors import CosXlError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True)
#: set by the ``--debug`` option of the command
state = {"debug": False}

_WHAT = {
    errno.EACCES: "нет прав на запись или чтение",
    errno.EPERM: "операция не разрешена",
    errno.ENOSPC: "на диске нет места",
    errno.EDQUOT: "исчерпана квота диска",
    errno.EROFS: "файловая система доступна только для чтения",
    errno.EISDIR: "это папка, а нужен файл",
    errno.ENOTDIR: "часть пути — файл, а нужна папка",
    errno.EEXIST: "уже существует, и это не папка",
    errno.ENOENT: "нет такого файла или папки",
    errno.ENAMETOOLONG: "слишком длинное имя",
    errno.EMFILE: "открыто слишком много файлов",
    errno.EIO: "ошибка ввода-вывода (диск или сеть)",
}


def os_error_line(exc: OSError) -> str:
    """``Не удалось записать /out/x.xlsx: нет прав на запись или чтение``."""
    path = exc.filename if exc.filename is not None else ""
    if exc.filename2 is not None:
        path = f"{path} → {exc.filename2}"
    what = _WHAT.get(exc.errno or -1) or exc.strerror or str(exc)
    return f"{path}: {what}" if path else what


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: itself, or what a library wrapped (XlsxWriter, openpyxl)."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, OSError):
            return exc
        if exc.args and isinstance(exc.args[0], OSError):
            return exc.args[0]
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def fail(message: str) -> typer.Exit:
    console.print(f"[bold red]Ошибка:[/] {escape(message)}")
    return typer.Exit(2)


def handled(command: F) -> F:
    """Wrap a command: a library error or a system error is one line and exit 2."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except CosXlError as exc:
            if state["debug"]:
                raise
            raise fail(str(exc)) from exc
        except Exception as exc:
            found = _os_error(exc)
            if found is None or state["debug"]:
                raise
            raise fail(os_error_line(found)) from exc

    return run  # type: ignore[return-value]
