"""National consolidation: the accepted submissions of a period become one national report.

    report = consolidate_period(form, campaign, "2020Q3", accepted, rejected)
    write_xlsx(report, Path("national.xlsx"))
    write_json(report, Path("national.json"))
    write_csv(report, Path("national.csv"))

``compute`` computes (weighted shares, sums, ranks, district subtotals, targets); ``model`` holds
the result; ``xlsx`` and ``exports`` write it. See docs/national.md for the outputs.
"""

from cos_xl.consolidate.compute import ConsolidationError, aggregate, consolidate_period
from cos_xl.consolidate.exports import JSON_SCHEMA, to_json, write_csv, write_json
from cos_xl.consolidate.model import (
    AbsentRegion, DistrictRow, Figure, IndicatorInfo, NationalReport, NationalRow, RankedFigure,
    Reproducibility, SubmissionRef, TargetPart, UnitRow, WarningCount,
)
from cos_xl.consolidate.xlsx import sheet_names, write_xlsx

__all__ = [
    "JSON_SCHEMA", "AbsentRegion", "ConsolidationError", "DistrictRow", "Figure",
    "IndicatorInfo", "NationalReport", "NationalRow", "RankedFigure", "Reproducibility",
    "SubmissionRef", "TargetPart", "UnitRow", "WarningCount", "aggregate", "consolidate_period",
    "sheet_names", "to_json", "write_csv", "write_json", "write_xlsx",
]
