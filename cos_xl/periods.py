"""Reporting periods: calendar quarters written like ``2020Q3``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from cos_xl.errors import CosXlError

_PERIOD_RE = re.compile(r"^\s*(\d{4})\s*[Qq]\s*([1-4])\s*$")
_QUARTER_RU = {1: "I квартал", 2: "II квартал", 3: "III квартал", 4: "IV квартал"}


class PeriodError(CosXlError):
    """A reporting period is not written as YYYYQn."""


@dataclass(frozen=True, order=True)
class Period:
    """A calendar quarter; figures are reported as of its last day (cumulative)."""

    year: int
    quarter: int

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """Parse ``2020Q3``; raise PeriodError with the text found otherwise."""
        if isinstance(text, Period):
            return text
        match = _PERIOD_RE.match(str(text))
        if not match:
            raise PeriodError(
                f"Неверный отчётный период {text!r}: ожидается год и квартал, например 2020Q3 "
                f"(period must look like 2020Q3)"
            )
        year = int(match.group(1))
        if not 2000 <= year <= 2100:
            raise PeriodError(f"Неверный год отчётного периода {text!r} (year out of range)")
        return cls(year, int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the quarter: the date the figures are reported as of."""
        if self.quarter == 4:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, 3 * self.quarter + 1, 1) - dt.timedelta(days=1)

    @property
    def title_ru(self) -> str:
        """Russian title, e.g. ``III квартал 2020 г.``"""
        return f"{_QUARTER_RU[self.quarter]} {self.year} г."

    def previous(self) -> Period:
        if self.quarter == 1:
            return Period(self.year - 1, 4)
        return Period(self.year, self.quarter - 1)

    def default_deadline(self) -> dt.date:
        """The 15th day of the month after the quarter (the campaign config may change it)."""
        return self.end + dt.timedelta(days=15)
