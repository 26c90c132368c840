"""Everything one regional workbook is built from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cos_xl.campaign import Contact
from cos_xl.periods import Period
from cos_xl.regions import Region
from cos_xl.spec import Form
from cos_xl.units import Unit


@dataclass(frozen=True)
class TemplateContext:
    form: Form
    region: Region
    period: Period
    deadline: dt.date
    issued: dt.date
    targets: dict[str, float]
    password: str
    contact: Contact
    #: The region's previous accepted values per indicator code, and that period.
    previous: dict[str, float] = field(default_factory=dict)
    previous_period: Period | None = None
    #: .xlsm with the VBA wrappers of the COS_* UDFs; False gives an .xlsx with the same cells.
    macros: bool = True
    #: One level down (``cos-xl generate --units``): the municipality or organisation this
    #: workbook is issued to, within ``region``; None for the region's own (federal) workbook.
    unit: Unit | None = None

    @property
    def prev_same_year(self) -> bool:
        return self.previous_period is not None and self.previous_period.year == self.period.year

    @property
    def heading(self) -> str:
        if self.unit is not None:
            return f"{self.unit.name} ({self.region.full_name}) — {self.period.title_ru}"
        return f"{self.region.full_name} — {self.period.title_ru}"
