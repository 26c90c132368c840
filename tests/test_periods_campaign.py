from __future__ import annotations

import datetime as dt

import pytest

from cos_xl.campaign import Campaign, load_campaign
from cos_xl.errors import ConfigError
from cos_xl.periods import Period, PeriodError
from cos_xl.spec import load_form


@pytest.mark.parametrize("text, year, quarter, end", [
    ("2020Q3", 2020, 3, dt.date(2020, 9, 30)), ("2021q1", 2021, 1, dt.date(2021, 3, 31)),
    (" 2023Q4 ", 2023, 4, dt.date(2023, 12, 31)), ("2024Q2", 2024, 2, dt.date(2024, 6, 30)),
])
def test_period_parse(text, year, quarter, end):
    period = Period.parse(text)
    assert (period.year, period.quarter, period.end) == (year, quarter, end)


@pytest.mark.parametrize("text", ["2020Q5", "2020-3", "Q3 2020", "", "1999Q1"])
def test_period_parse_rejects(text):
    with pytest.raises(PeriodError):
        Period.parse(text)


def test_period_previous_and_title():
    assert str(Period(2021, 1).previous()) == "2020Q4"
    assert Period(2020, 3).title_ru == "III квартал 2020 г."


def test_campaign_defaults_work_without_a_file():
    campaign = load_campaign(None)
    period = Period.parse("2020Q3")
    assert campaign.deadline(period) == dt.date(2020, 10, 15)
    assert campaign.targets(period, load_form()) == {"E4.01.05": 100.0}
    assert campaign.national.e40111_subjects_min == 75


def test_campaign_file_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('protection_password = "секрет"\n[periods.2020Q3]\ndeadline = 2020-10-20\n'
                    'targets = { "E4.03" = 10.5 }\n', encoding="utf-8")
    campaign = load_campaign(path)
    period = Period.parse("2020Q3")
    assert campaign.deadline(period) == dt.date(2020, 10, 20)
    assert campaign.targets(period, load_form())["E4.03"] == 10.5
    assert campaign.protection_password == "секрет"


@pytest.mark.parametrize("body, expected", [
    ('colour = "red"\n', r"colour: Extra inputs"),
    ('[periods.2020Q3]\ndeadline = "soon"\n', r"periods\.2020Q3\.deadline"),
    ('[periods.2020Q9]\n', r"periods\.2020Q9"),
    ('x = [\n', r"not valid TOML"),
])
def test_campaign_errors_name_file_and_key(tmp_path, body, expected):
    path = tmp_path / "c.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_campaign(path)


def test_unknown_target_code():
    campaign = Campaign.model_validate({"periods": {"2020Q3": {"targets": {"E9.99": 1}}}})
    with pytest.raises(ConfigError, match="E9.99"):
        campaign.targets(Period.parse("2020Q3"), load_form())
