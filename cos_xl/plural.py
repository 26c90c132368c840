"""Russian nouns after a number: 1 файл, 2 файла, 5 файлов, 21 файл, 111 файлов.

The three forms are given by the caller in the case the phrase needs: «прислали 84 файла»
(файл, файла, файлов), «сводка по 78 субъектам» (субъекту, субъектам, субъектам), «из 85
субъектов» (субъекта, субъектов, субъектов).
"""

from __future__ import annotations

import math


def plural(n: float, one: str, few: str, many: str) -> str:
    """The form of the noun that follows ``n``.

    ``one`` after 1, 21, 101…; ``few`` after 2–4, 22–24…; ``many`` after 0, 5–20, 11–14,
    111…. A negative number takes the form of its absolute value; a fractional one takes
    ``few`` (1,5 файла, 0,5 файла: the genitive singular, as after 2–4). Not a number or an
    infinity is a ValueError: no count is either.
    """
    if not math.isfinite(n):
        raise ValueError(f"not a count: {n!r}")
    value = abs(n)
    if value != int(value):
        return few
    value = int(value)
    if value % 100 in range(11, 15):
        return many
    if value % 10 == 1:
        return one
    if value % 10 in (2, 3, 4):
        return few
    return many


def quantity(n: float, one: str, few: str, many: str) -> str:
    """The number and its noun: ``quantity(84, "файл", "файла", "файлов") == "84 файла"``.
    A whole float is printed as a whole number, a fraction with a decimal comma."""
    if n == int(n):
        shown = str(int(n))
    else:
        shown = f"{n:g}".replace(".", ",")
    return f"{shown} {plural(n, one, few, many)}"
