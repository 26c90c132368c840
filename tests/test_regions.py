"""Tests of the reference table of the subjects of the Russian Federation (cos_xl.regions)."""

from __future__ import annotations

import csv
import io
import re
from importlib import resources

import pytest
from pydantic import ValidationError

from cos_xl.errors import RegionError
from cos_xl.regions import (
    FEDERAL_DISTRICTS,
    Region,
    all_regions,
    get_region,
    regions_for_period,
    select_regions,
)

NEW_SUBJECTS = {
    # code: (full_name, okato, oktmo)
    "90": ("Запорожская область", "23000000000", "23000000"),
    "93": ("Донецкая Народная Республика", "21000000000", "21000000"),
    "94": ("Луганская Народная Республика", "43000000000", "43000000"),
    "95": ("Херсонская область", "74000000000", "74000000"),
}
TYPE_ABBREVIATIONS = ("Респ", "край", "обл", "г", "Аобл", "АО")


def test_all_regions_is_89_sorted_and_cached() -> None:
    regions = all_regions()
    assert len(regions) == 89
    assert [r.code for r in regions] == sorted(r.code for r in regions)
    assert all_regions() is regions


@pytest.mark.parametrize(
    ("year", "quarter", "expected"),
    [(2020, 3, 85), (2022, 4, 85), (2023, 1, 89), (2023, 2, 89), (2025, 4, 89)],
)
def test_regions_for_period_counts(year: int, quarter: int, expected: int) -> None:
    assert len(regions_for_period(year, quarter)) == expected


def test_before_2023_has_no_new_subjects() -> None:
    codes = {r.code for r in regions_for_period(2022, 4)}
    assert codes.isdisjoint(NEW_SUBJECTS)
    assert set(NEW_SUBJECTS) <= {r.code for r in regions_for_period(2023, 1)}


def test_codes_unique_and_two_digit() -> None:
    codes = [r.code for r in all_regions()]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"\d{2}", c) for c in codes)


def test_baikonur_absent() -> None:
    assert "99" not in {r.code for r in all_regions()}
    assert all("Байконур" not in r.name and "Байконур" not in r.full_name for r in all_regions())
    assert all(r.okato != "55000000000" for r in all_regions())
    with pytest.raises(RegionError):
        get_region("99")


@pytest.mark.parametrize("code", sorted(NEW_SUBJECTS))
def test_new_subjects_flagged_with_codes(code: str) -> None:
    full_name, okato, oktmo = NEW_SUBJECTS[code]
    region = get_region(code)
    assert region.full_name == full_name
    assert region.okato == okato
    assert region.oktmo == oktmo
    assert region.added == 2022
    assert region.reports_from == "2023Q1"
    assert region.federal_district == "Южный"
    assert region.iso_code is None
    assert not region.reports_in(2022, 4)
    assert region.reports_in(2023, 1)


def test_only_the_four_new_subjects_are_flagged() -> None:
    flagged = {r.code for r in all_regions() if r.added is not None or r.reports_from is not None}
    assert flagged == set(NEW_SUBJECTS)


def test_original_subject_reports_always() -> None:
    moscow = get_region("77")
    assert moscow.reports_in(2000, 1)
    assert moscow.reports_in(2030, 4)


@pytest.mark.parametrize("code", ["91", "92"])
def test_no_iso_code_for_crimea_and_sevastopol(code: str) -> None:
    assert get_region(code).iso_code is None


def test_iso_codes_are_russian_and_unique() -> None:
    codes = [r.iso_code for r in all_regions() if r.iso_code is not None]
    assert len(codes) == 89 - 2 - 4
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"RU-[A-Z]{2,3}", c) for c in codes)


def test_federal_districts() -> None:
    assert len(FEDERAL_DISTRICTS) == 8
    assert FEDERAL_DISTRICTS[0] == "Центральный"
    assert FEDERAL_DISTRICTS[-1] == "Дальневосточный"
    used = {r.federal_district for r in all_regions()}
    assert used == set(FEDERAL_DISTRICTS)


def test_okato_oktmo_digits() -> None:
    for r in all_regions():
        assert re.fullmatch(r"\d{11}", r.okato), r
        assert re.fullmatch(r"\d{8}", r.oktmo), r
    assert get_region("22").okato == "01000000000"  # leading zero kept
    assert get_region("22").oktmo == "01000000"


def test_chuvashia_type_fixed() -> None:
    assert get_region("21").type == "Респ"
    assert {r.type for r in all_regions()} == set(TYPE_ABBREVIATIONS)


@pytest.mark.parametrize(
    ("code", "full_name"),
    [
        ("01", "Республика Адыгея"),
        ("07", "Кабардино-Балкарская Республика"),
        ("14", "Республика Саха (Якутия)"),
        ("15", "Республика Северная Осетия — Алания"),
        ("21", "Чувашская Республика — Чувашия"),
        ("22", "Алтайский край"),
        ("28", "Амурская область"),
        ("42", "Кемеровская область — Кузбасс"),
        ("77", "г. Москва"),
        ("79", "Еврейская автономная область"),
        ("83", "Ненецкий автономный округ"),
        ("86", "Ханты-Мансийский автономный округ — Югра"),
        ("91", "Республика Крым"),
        ("92", "г. Севастополь"),
    ],
)
def test_full_name_examples(code: str, full_name: str) -> None:
    assert get_region(code).full_name == full_name


def test_full_names_have_no_abbreviations() -> None:
    for r in all_regions():
        assert r.full_name.strip() == r.full_name and r.full_name, r
        assert r.full_name not in TYPE_ABBREVIATIONS, r
        words = r.full_name.replace("(", " ").replace(")", " ").split()
        for abbreviation in ("Респ", "обл", "Аобл", "АО", "г"):
            assert abbreviation not in words, r
        assert " - " not in r.full_name and "/" not in r.full_name, r
    assert len({r.full_name for r in all_regions()}) == 89


@pytest.mark.parametrize("code", ["77", "7", 7, "07", " 07 ", 77])
def test_get_region_normalises(code: str | int) -> None:
    expected = "77" if str(code).strip() == "77" else "07"
    assert get_region(code).code == expected


@pytest.mark.parametrize("code", ["98", 98, "0", "00", "100", "", "ab", "7a", -7, True, None])
def test_get_region_unknown(code: object) -> None:
    with pytest.raises(RegionError, match="Неизвестный код региона"):
        get_region(code)  # type: ignore[arg-type]


def test_get_region_error_message() -> None:
    with pytest.raises(RegionError) as info:
        get_region("98")
    assert str(info.value) == "Неизвестный код региона: '98' (unknown region code)"


@pytest.mark.parametrize(("year", "quarter"), [(2020, 3), (2023, 1)])
def test_select_regions_none_is_whole_period(year: int, quarter: int) -> None:
    assert select_regions(None, year, quarter) == regions_for_period(year, quarter)


def test_select_regions_named_sorted_deduplicated() -> None:
    selected = select_regions(["77", 7, "07", 1, "77"], 2020, 3)
    assert [r.code for r in selected] == ["01", "07", "77"]


def test_select_regions_new_subject_after_2023() -> None:
    assert [r.code for r in select_regions([93, "90"], 2023, 1)] == ["90", "93"]


def test_select_regions_new_subject_too_early() -> None:
    with pytest.raises(RegionError) as info:
        select_regions(["77", "93"], 2020, 3)
    message = str(info.value)
    assert "Регион 93 (Донецкая Народная Республика) отчитывается с 2023Q1" in message
    assert "2020Q3" in message


def test_select_regions_unknown_code() -> None:
    with pytest.raises(RegionError, match="'98'"):
        select_regions(["77", "98"], 2023, 1)


@pytest.mark.parametrize("quarter", [0, 5])
def test_invalid_quarter(quarter: int) -> None:
    with pytest.raises(RegionError):
        regions_for_period(2023, quarter)


def test_region_is_frozen_and_strict() -> None:
    region = get_region("77")
    with pytest.raises(ValidationError):
        region.name = "X"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Region.model_validate({**region.model_dump(), "extra": 1})
    with pytest.raises(ValidationError):
        Region.model_validate({**region.model_dump(), "okato": "4500000000"})
    for name, field in Region.model_fields.items():
        assert field.description, name


def test_packaged_csv_is_the_source_of_truth() -> None:
    text = resources.files("cos_xl.regions").joinpath("regions.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == [
        "code", "name", "type", "full_name", "federal_district",
        "okato", "oktmo", "iso_code", "added", "reports_from",
    ]
    assert [row["code"] for row in rows] == [r.code for r in all_regions()]
    assert all(row["okato"] == r.okato for row, r in zip(rows, all_regions(), strict=True))
