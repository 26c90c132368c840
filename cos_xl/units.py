"""The units of a region — its municipalities or organisations — read from a CSV file.

A region collects its figures from units with the same tool, one level down: one workbook per
unit, the same form. The list of units is a UTF-8 CSV with the header ``unit_id,name,kind``::

    unit_id,name,kind
    45000000,"Муниципальное образование ""Город"" (пример)",municipality
    7701234567,ГБОУ Школа № 1,organisation

``unit_id`` becomes part of the workbook's file name, so it is short and plain: 1–32 Latin
letters, digits, ``-``, ``_`` or ``.``, not starting with a dot (OKTMO codes and INNs fit);
``kind`` is ``municipality`` or ``organisation``. Every problem names the file and the line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cos_xl.errors import CosXlError
from cos_xl.plural import quantity

__all__ = ["KINDS", "KIND_RU", "Unit", "UnitsError", "load_units", "parse_units"]

Kind = Literal["municipality", "organisation"]
KINDS: tuple[str, ...] = ("municipality", "organisation")
KIND_RU = {"municipality": "муниципальное образование", "organisation": "организация"}
HEADER = ("unit_id", "name", "kind")
UNIT_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,31}$")
MAX_NAME = 255
#: A units file is a list of names: 10 MB holds ~100,000 of them. Larger is not a units file.
MAX_BYTES = 10 * 1024 * 1024
#: The rolled-up return lists every unit on «Свод по МО» (~1.4 KB of sheet XML each): 5,000
#: units make ~7 MB, within the 10 MB a part may have at intake (cos_xl.validate.safety).
MAX_UNITS = 5_000
_MAX_ERRORS = 20


class UnitsError(CosXlError):
    """The units file cannot be used; the message lists every problem found (file, line)."""


@dataclass(frozen=True)
class Unit:
    unit_id: str
    name: str
    kind: Kind

    @property
    def kind_ru(self) -> str:
        return KIND_RU[self.kind]

    def as_dict(self) -> dict[str, str]:
        return {"id": self.unit_id, "name": self.name, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: dict) -> Unit:
        return cls(str(data["id"]), str(data["name"]), data["kind"])


def load_units(path: Path | str) -> tuple[Unit, ...]:
    """The units listed in ``path``; UnitsError naming the file and each bad line."""
    path = Path(path)
    try:
        if not path.is_file():
            raise UnitsError(f"{path}: файл со списком МО/организаций не найден"
                             if not path.exists() else f"{path}: это не файл")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UnitsError(f"{path}: файл не читается ({exc.strerror or exc})") from exc
    return parse_units(data, str(path))


def parse_units(data: bytes, source: str = "список МО") -> tuple[Unit, ...]:
    """Parse the bytes of a units file; ``source`` names it in the messages."""
    if len(data) > MAX_BYTES:
        raise UnitsError(f"{source}: файл больше {MAX_BYTES // (1024 * 1024)} МБ — это не "
                         "список МО/организаций")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnitsError(f"{source}: это книга Excel, а нужен CSV. Сохраните лист как «Текст "
                         "CSV (.csv)» в кодировке UTF-8 с разделителем «,»")
    if b"\x00" in data:
        raise UnitsError(f"{source}: файл не текстовый (или в кодировке UTF-16); сохраните его "
                         "как CSV в кодировке UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise UnitsError(f"{source}, строка {line}: текст не в кодировке UTF-8 (похоже на "
                         "Windows-1251). Сохраните файл как CSV в кодировке UTF-8") from exc
    return _parse_text(text, source)


def _rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise UnitsError(f"{source}, строка {reader.line_num}: CSV не разбирается ({exc}); "
                         "проверьте кавычки") from exc


def _parse_text(text: str, source: str) -> tuple[Unit, ...]:
    rows = ((line, row) for line, row in _rows(text, source)
            if any(cell.strip() for cell in row))
    first = next(rows, None)
    if first is None:
        raise UnitsError(f"{source}: файл пуст; нужна строка заголовка "
                         f"«{','.join(HEADER)}» и по строке на МО/организацию")
    line, header = first
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    if len(names) == 1 and ";" in names[0]:
        raise UnitsError(f"{source}, строка {line}: разделитель — «;», а нужен «,». Сохраните "
                         "файл как CSV с разделителем-запятой")
    if names != list(HEADER):
        raise UnitsError(f"{source}, строка {line}: заголовок должен быть "
                         f"«{','.join(HEADER)}», а в файле «{','.join(header)}»")
    errors: list[str] = []
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        problem = _problem(row, seen, line)
        if problem:
            errors.append(f"строка {line}: {problem}")
            if len(errors) > _MAX_ERRORS:
                break
            continue
        unit_id, name, kind = (cell.strip() for cell in row)
        units.append(Unit(unit_id, " ".join(name.split()), kind.lower()))  # type: ignore[arg-type]
        if len(units) > MAX_UNITS:
            raise UnitsError(f"{source}: больше {MAX_UNITS} МО/организаций. Столько не "
                             "поместится на лист «Свод по МО» отчёта субъекта (его принимают "
                             "с листами до 10 МБ); проверьте, тот ли это список")
    if errors:
        shown = errors[:_MAX_ERRORS]
        more = len(errors) - len(shown)
        raise UnitsError(
            f"{source}: {quantity(len(errors), 'ошибка', 'ошибки', 'ошибок')}"
            f"{' (показаны первые)' if more else ''}:\n" + "\n".join(f"  {e}" for e in shown))
    if not units:
        raise UnitsError(f"{source}: в файле только заголовок — нет ни одного МО/организации")
    return tuple(units)


def _problem(row: list[str], seen: dict[str, int], line: int) -> str | None:
    if len(row) != len(HEADER):
        return (f"нужно {len(HEADER)} поля (unit_id, name, kind), а их {len(row)}; "
                "название с запятой возьмите в кавычки")
    unit_id, name, kind = (cell.strip() for cell in row)
    if not unit_id:
        return "пустой unit_id"
    if not UNIT_ID.match(unit_id):
        return (f"unit_id «{unit_id[:40]}» недопустим: 1–32 латинские буквы, цифры, «-», «_» "
                "или «.» (не в начале), без пробелов — он входит в имя файла")
    if unit_id in seen:
        return f"unit_id «{unit_id}» уже был в строке {seen[unit_id]}"
    seen[unit_id] = line
    if not name:
        return f"пустое название у «{unit_id}»"
    if len(name) > MAX_NAME:
        return f"название длиннее {MAX_NAME} символов у «{unit_id}»"
    if any(ord(ch) < 32 for ch in name):
        return f"в названии «{unit_id}» есть управляющие символы"
    if kind.lower() not in KINDS:
        return (f"kind «{kind}» у «{unit_id}»: нужно municipality (муниципальное образование) "
                "или organisation (организация)")
    return None


def how_many(count: int, genitive: bool = False) -> str:
    """«3 МО/организации»; ``genitive``: «(из) 3 МО/организаций», «(нет отчётов) 1
    МО/организации»."""
    if genitive:
        return quantity(count, "МО/организации", "МО/организаций", "МО/организаций")
    return quantity(count, "МО/организация", "МО/организации", "МО/организаций")


def select_units(units: Iterable[Unit], ids: Iterable[str] | None) -> tuple[Unit, ...]:
    """The units with the given ids (all when ``ids`` is None); UnitsError for an unknown id."""
    units = tuple(units)
    if ids is None:
        return units
    by_id = {unit.unit_id: unit for unit in units}
    wanted = list(ids)
    unknown = [i for i in wanted if i not in by_id]
    if unknown:
        raise UnitsError(f"нет в списке: {', '.join(unknown)}")
    return tuple(by_id[i] for i in wanted)
