"""Russian plural forms after a number, and the counts the demo prints with them."""

from __future__ import annotations

import pytest

from cos_xl.plural import plural, quantity

FILE = ("файл", "файла", "файлов")


@pytest.mark.parametrize("n, form", [
    (0, "файлов"), (1, "файл"), (2, "файла"), (3, "файла"), (4, "файла"), (5, "файлов"),
    (10, "файлов"), (11, "файлов"), (12, "файлов"), (13, "файлов"), (14, "файлов"),
    (15, "файлов"), (19, "файлов"), (20, "файлов"), (21, "файл"), (22, "файла"),
    (24, "файла"), (25, "файлов"), (84, "файла"), (85, "файлов"), (100, "файлов"),
    (101, "файл"), (102, "файла"), (111, "файлов"), (112, "файлов"), (114, "файлов"),
    (121, "файл"), (1001, "файл"), (1011, "файлов"), (1_000_000, "файлов"),
])
def test_plural_of_whole_numbers(n, form):
    assert plural(n, *FILE) == form


@pytest.mark.parametrize("n, form", [
    (-1, "файл"), (-3, "файла"), (-11, "файлов"), (-21, "файл"),  # as the absolute value
    (21.0, "файл"), (84.0, "файла"), (5.0, "файлов"),  # a whole float is a whole number
    (1.5, "файла"), (0.5, "файла"), (2.25, "файла"), (11.5, "файла"),  # a fraction: genitive
])
def test_plural_of_negative_and_fractional_numbers(n, form):
    assert plural(n, *FILE) == form


@pytest.mark.parametrize("n", [float("nan"), float("inf"), float("-inf")])
def test_plural_refuses_what_is_not_a_count(n):
    with pytest.raises(ValueError):
        plural(n, *FILE)


@pytest.mark.parametrize("n, text", [
    (84, "84 файла"), (0, "0 файлов"), (1, "1 файл"), (11, "11 файлов"), (21.0, "21 файл"),
    (1.5, "1,5 файла"), (-2, "-2 файла"),
])
def test_quantity_prints_the_number_with_its_noun(n, text):
    assert quantity(n, *FILE) == text


def test_other_cases_are_the_callers_forms():
    assert quantity(78, "субъекту", "субъектам", "субъектам") == "78 субъектам"
    assert quantity(21, "субъекту", "субъектам", "субъектам") == "21 субъекту"
    assert quantity(85, "книга", "книги", "книг") == "85 книг"
    assert quantity(2, "книга", "книги", "книг") == "2 книги"


NOUNS = {"книг": ("книга", "книги", "книг"), "файл": FILE,
         "субъект": ("субъекту", "субъектам", "субъектам")}


def test_demo_prints_its_counts_with_agreeing_nouns(tmp_path):
    """Each «N <noun>» the demo says takes the form of N (not «84 файлов», «3 книг»)."""
    import re

    from cos_xl.demo.round import run_demo

    said: list[str] = []
    run_demo(tmp_path / "demo", regions=["77", "50", "78"], step=said.append)
    text = "\n".join(said)
    assert "Шаблоны: 3 книги за" in text
    found = re.findall(r"(\d+) (книг\w*|файл\w*|субъект\w*)", text)
    assert len(found) >= 5, text
    for number, noun in found:
        forms = next(f for stem, f in NOUNS.items() if noun.startswith(stem))
        assert noun == plural(int(number), *forms), (number, noun)
