"""Campaign configuration (TOML): deadlines, protection password, targets, contacts.

Everything has a default, so ``cos-xl generate --period 2020Q3 --out DIR`` works with no file.
Example (``docs/campaign.example.toml``)::

    form = "cos-2020"
    protection_password = "…"

    [contact]
    name = "Федеральный оператор ЦОС"
    email = "cos@example.ru"

    [rollup]            # a region's campaign for its units: its own return's texts
    resp_name = "Иванова Мария Петровна"

    [periods.2020Q3]
    deadline = 2020-10-15
    issued = 2020-10-01
    targets = { "E4.03" = 10.0, "E4.04" = 10.0 }
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from cos_xl.errors import ConfigError
from cos_xl.periods import Period
from cos_xl.spec import DEFAULT_FORM, Form
from cos_xl.tomlfile import load_model

DEFAULT_PASSWORD = "cos-xl"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Strict):
    name: str = Field("Федеральный оператор проекта «Цифровая образовательная среда»",
                      description="Who regions contact with questions (Russian)")
    phone: str = Field("", description="Phone of the federal contact")
    email: str = Field("", description="E-mail of the federal contact")


class NationalTargets(_Strict):
    """National results the letter ГД-1452/04 sets (items 7 and 8)."""

    e40107_min: int = Field(5_000, description="E4.01.07: at least this many persons nationally")
    e40111_students_min: int = Field(500_000, description="E4.01.11: at least this many children")
    e40111_org_share_min: float = Field(
        25.0, description="E4.01.11: schools using the equipment, % of schools, in participants")
    e40111_subjects_min: int = Field(75, description="E4.01.11: at least this many subjects")


class PeriodSettings(_Strict):
    deadline: dt.date | None = Field(None, description="Date by which regions return the workbook")
    issued: dt.date | None = Field(
        None, description="Date the templates are issued; also their document timestamp")
    targets: dict[str, float] = Field(
        default_factory=dict, description="Target per indicator code, e.g. {'E4.03' = 10.0}")
    form: str | None = Field(None, description="Form specification for this period")


class Campaign(_Strict):
    form: str = Field(DEFAULT_FORM, description="Form specification (file stem in templates/)")
    protection_password: str = Field(
        DEFAULT_PASSWORD, min_length=1, max_length=255,
        description="Password of sheet and structure protection (deters edits, is not security)")
    contact: Contact = Field(default_factory=Contact, description="Federal contact for regions")
    national: NationalTargets = Field(default_factory=NationalTargets,
                                      description="National results to check at consolidation")
    periods: dict[str, PeriodSettings] = Field(
        default_factory=dict, description="Settings per period, keyed like 2020Q3")
    rollup: dict[str, str] = Field(
        default_factory=dict,
        description="One level down: the texts of the region's own return that `cos-xl rollup`"
                    " fills, by input id (resp_name, resp_position, resp_phone, resp_email; an "
                    "information system such as is_E4_03 overrides the one taken from the units)")

    def settings(self, period: Period) -> PeriodSettings:
        return self.periods.get(str(period), PeriodSettings())

    def form_for(self, period: Period) -> str:
        return self.settings(period).form or self.form

    def deadline(self, period: Period) -> dt.date:
        return self.settings(period).deadline or period.default_deadline()

    def issued(self, period: Period) -> dt.date:
        """Issue date: fixed per period so that generation is reproducible byte for byte."""
        return self.settings(period).issued or period.end

    def targets(self, period: Period, form: Form) -> dict[str, float]:
        """Targets per indicator code: the letter's (in the form) overlaid by the campaign's."""
        targets = {ind.spec.code: ind.spec.target for ind in form.indicators
                   if ind.spec.target is not None}
        for code, value in self.settings(period).targets.items():
            if code not in form.indicator_by_code:
                raise ConfigError(
                    f"Цель задана для неизвестного показателя {code!r} в периоде {period} "
                    f"(unknown indicator code); известны: {', '.join(form.indicator_by_code)}")
            targets[code] = value
        return targets


def load_campaign(path: Path | None) -> Campaign:
    """Load a campaign TOML file; ``None`` gives the defaults."""
    if path is None:
        return Campaign()
    campaign = load_model(path, Campaign, ConfigError, "campaign configuration")
    for key in campaign.periods:
        try:
            Period.parse(key)
        except Exception as exc:
            raise ConfigError(f"{path}: periods.{key}: {exc}") from exc
    return campaign
