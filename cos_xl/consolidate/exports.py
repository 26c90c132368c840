"""Machine-readable exports of the national report: JSON (documented schema) and CSV.

JSON (``cos-xl/national/1``): the issue's shape ``{"period", "indicators": {code: {"value",
"numerator", "denominator", "target", "met"}}, "regions": {unit: {code: {"value", "numerator",
"denominator"}}}, "missing": […]}`` plus extra keys; :data:`JSON_SCHEMA` is the formal schema
(JSON Schema 2020-12) and ``docs/national.md`` shows it.

CSV: long format, one row per level × indicator (country, federal districts, units), for Russian
Excel by default (``;`` between fields, decimal comma, UTF-8 with BOM), safe against formula
injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
leading apostrophe (OWASP); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from cos_xl.consolidate.model import Figure, NationalReport, RankedFigure, SubmissionRef
from cos_xl.files import write_atomically

SCHEMA_ID = "cos-xl/national/1"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# --- JSON ------------------------------------------------------------------------------------

_NUMBER = {"type": ["number", "null"]}
_FIGURE = {
    "type": "object",
    "required": ["value", "numerator", "denominator"],
    "additionalProperties": False,
    "properties": {
        "value": {**_NUMBER, "description": "percent for a share (null when the denominator is "
                                            "0), the sum for a count (null without data)"},
        "numerator": {**_NUMBER, "description": "sum of numerators"},
        "denominator": {**_NUMBER, "description": "sum of denominators; null for a count"},
    },
}
_PART = {
    "type": "object",
    "required": ["value", "target", "met"],
    "additionalProperties": False,
    "properties": {
        "value": _NUMBER,
        "numerator": _NUMBER,
        "denominator": _NUMBER,
        "target": {"type": "number"},
        "met": {"type": "boolean"},
    },
}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

#: The formal schema of ``write_json``'s output (JSON Schema, draft 2020-12).
JSON_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "National report of the federal project «Цифровая образовательная среда»",
    "type": "object",
    "required": ["schema", "period", "form", "indicators", "e40111_parts", "regions",
                 "districts", "missing", "rejected", "warnings", "reproducibility"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "period": {"type": "string", "pattern": "^[0-9]{4}Q[1-4]$",
                   "description": "reporting period, e.g. 2020Q3"},
        "form": {"type": "object", "required": ["id", "version"], "additionalProperties": False,
                 "properties": {"id": {"type": "string"}, "version": {"type": "string"}}},
        "indicators": {
            "type": "object", "description": "national value per indicator code, form order",
            "additionalProperties": {
                "type": "object",
                "required": ["value", "numerator", "denominator", "target", "met", "kind",
                             "unit", "units"],
                "additionalProperties": False,
                "properties": {
                    **_FIGURE["properties"],
                    "target": {**_NUMBER, "description": "null: no target"},
                    "met": {"type": ["boolean", "null"],
                            "description": "null when there is no target; no data is false"},
                    "kind": {"enum": ["share", "count"]},
                    "unit": {"type": "string", "description": "% or чел."},
                    "units": {"type": "integer", "description": "units with a value"},
                },
            },
        },
        "e40111_parts": {
            "type": "object", "additionalProperties": False,
            "description": "E4.01.11's three conditions; empty if the form has no E4.01.11",
            "properties": {"students": _PART, "subjects": _PART, "org_share": _PART},
        },
        "regions": {
            "type": "object",
            "description": "per unit with an accepted submission (region code, or RR-… for a "
                           "municipal unit): per indicator code",
            "propertyNames": {"pattern": "^[0-9]{2}(-[0-9A-Za-z_]{1,32})?$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                    **_FIGURE, "required": [*_FIGURE["required"], "rank"],
                    "properties": {**_FIGURE["properties"],
                                   "rank": {"type": ["integer", "null"],
                                            "description": "1 = highest; ties share the best "
                                                           "place; null without a value"}},
                },
            },
        },
        "districts": {
            "type": "object", "description": "per federal district, official order",
            "additionalProperties": {
                "type": "object", "required": ["regions", "reported", "indicators"],
                "additionalProperties": False,
                "properties": {"regions": {"type": "integer"}, "reported": {"type": "integer"},
                               "indicators": {"type": "object",
                                              "additionalProperties": _FIGURE}},
            },
        },
        "missing": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{2}$"},
                    "description": "region codes of the period with nothing received"},
        "rejected": {"type": "array", "items": {"type": "string"},
                     "description": "units whose latest submission failed, none accepted"},
        "warnings": {
            "type": "object", "description": "per finding code, in accepted submissions",
            "additionalProperties": {
                "type": "object", "required": ["warnings", "explained", "units"],
                "additionalProperties": False,
                "properties": {"warnings": {"type": "integer"}, "explained": {"type": "integer"},
                               "units": {"type": "integer"}},
            },
        },
        "reproducibility": {
            "type": "object",
            "required": ["tool_version", "form_sha256", "rule_count", "rules_sha256",
                         "inputs_sha256", "inputs"],
            "additionalProperties": False,
            "properties": {
                "tool_version": {"type": "string"},
                "form_sha256": _SHA256,
                "rule_count": {"type": "integer"},
                "rules_sha256": _SHA256,
                "inputs_sha256": _SHA256,
                "inputs": {"type": "array", "items": {
                    "type": "object",
                    "required": ["unit", "version", "sha256", "size", "filename",
                                 "received_at", "verdict", "used"],
                    "additionalProperties": False,
                    "properties": {
                        "unit": {"type": "string"}, "version": {"type": "integer"},
                        "sha256": {"type": "string"}, "size": {"type": "integer"},
                        "filename": {"type": "string"},
                        "received_at": {"type": "string", "description": "ISO 8601, UTC"},
                        "verdict": {"enum": ["PASS", "PASS_WITH_WARNINGS", "FAIL"]},
                        "used": {"type": "boolean"},
                    },
                }},
            },
        },
    },
}


def _n(value: float | None) -> int | float | None:
    """A whole number as an int (counts of persons), anything else unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _figure(fig: Figure) -> dict:
    out = {"value": _n(fig.value), "numerator": _n(fig.numerator),
           "denominator": _n(fig.denominator)}
    if isinstance(fig, RankedFigure):
        out["rank"] = fig.rank
    return out


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.replace(tzinfo=None).isoformat() + "Z"


def _input(ref: SubmissionRef) -> dict:
    return {"unit": ref.unit, "version": ref.version, "sha256": ref.sha256, "size": ref.size,
            "filename": ref.filename, "received_at": _utc(ref.received_at),
            "verdict": ref.verdict, "used": ref.used}


def to_json(report: NationalReport) -> dict:
    """The report as a JSON-ready dict following :data:`JSON_SCHEMA`."""
    rep = report.reproducibility
    parts: Mapping = {}
    for line in report.national:
        if line.parts:
            parts = {p.key: {"value": _n(p.value), "numerator": _n(p.numerator),
                             "denominator": _n(p.denominator), "target": _n(p.target),
                             "met": p.met} for p in line.parts}
    return {
        "schema": SCHEMA_ID,
        "period": report.period,
        "form": {"id": rep.form_id, "version": rep.form_version},
        "indicators": {
            line.indicator.code: {**_figure(line.figure), "target": _n(line.target),
                                  "met": line.met, "kind": line.indicator.kind,
                                  "unit": line.indicator.unit, "units": line.units}
            for line in report.national},
        "e40111_parts": parts,
        "regions": {unit.unit: {code: _figure(fig) for code, fig in unit.figures.items()}
                    for unit in report.units},
        "districts": {d.name: {"regions": d.regions, "reported": d.reported,
                               "indicators": {code: _figure(fig)
                                              for code, fig in d.figures.items()}}
                      for d in report.districts},
        "missing": [a.region_code for a in report.missing],
        "rejected": [a.unit for a in report.rejected],
        "warnings": {w.code: {"warnings": w.warnings, "explained": w.explained,
                              "units": w.units} for w in report.warnings},
        "reproducibility": {"tool_version": rep.tool_version, "form_sha256": rep.form_sha256,
                            "rule_count": rep.rule_count, "rules_sha256": rep.rules_sha256,
                            "inputs_sha256": rep.inputs_sha256,
                            "inputs": [_input(ref) for ref in rep.inputs]},
    }


def json_text(report: NationalReport) -> str:
    return json.dumps(to_json(report), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_json(report: NationalReport, path: Path) -> None:
    """Write the report as JSON (UTF-8) atomically."""
    write_atomically(Path(path), json_text(report).encode("utf-8"))


# --- CSV -------------------------------------------------------------------------------------

#: Columns of the CSV, with what each holds (rendered into docs/national.md).
CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Период", "reporting period, e.g. 2020Q3"),
    ("Уровень", "страна, федеральный округ, субъект, or единица (a municipal unit RR-…)"),
    ("Код", "RU for the country, empty for a district, the unit key otherwise"),
    ("Наименование", "Российская Федерация, the district, or the region's full name"),
    ("Федеральный округ", "the federal district (empty for the country)"),
    ("Показатель", "indicator code, e.g. E4.03"),
    ("Единица измерения", "% or чел."),
    ("Значение", "percent for a share, persons for a count; empty when there is no value"),
    ("Числитель", "sum of numerators"),
    ("Знаменатель", "sum of denominators; empty for a count"),
    ("Место", "units only: 1 = highest value, ties share the best place, empty without value"),
    ("Цель", "country only: the target, empty when none"),
    ("Выполнено", "country only: да / нет, empty when there is no target"),
    ("Версия", "units only: version of the accepted submission"),
    ("Файл", "units only: the submission's file name as received (text from a region)"),
)


def csv_text_cell(text: str) -> str:
    """A text cell that no spreadsheet takes for a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_number(value: float | None, decimal: str = ",") -> str:
    """A number as the CSV carries it: whole numbers without a fraction, shortest exact
    representation otherwise, with ``decimal`` as the decimal separator."""
    if value is None:
        return ""
    value = _n(float(value))
    if isinstance(value, int):
        return str(value)
    # Positional notation (no "1e-05", which spreadsheets read differently by locale).
    return format(Decimal(repr(value)), "f").replace(".", decimal)


def csv_rows(report: NationalReport, decimal: str = ",") -> list[list[str]]:
    """Header and rows, every cell final (numbers formatted, texts made safe)."""
    def num(value: float | None) -> str:
        return csv_number(value, decimal)

    def text(value: str) -> str:
        return csv_text_cell(value)

    rows = [[name for name, _ in CSV_COLUMNS]]
    info = {i.code: i for i in report.indicators}
    for line in report.national:
        fig = line.figure
        met = "" if line.met is None else ("да" if line.met else "нет")
        rows.append([report.period, "страна", "RU", "Российская Федерация", "",
                     line.indicator.code, text(line.indicator.unit), num(fig.value),
                     num(fig.numerator), num(fig.denominator), "", num(line.target), met, "",
                     ""])
    for district in report.districts:
        for code, fig in district.figures.items():
            rows.append([report.period, "федеральный округ", "", text(district.name),
                         text(district.name), code, text(info[code].unit), num(fig.value),
                         num(fig.numerator), num(fig.denominator), "", "", "", "", ""])
    for unit in report.units:
        level = "субъект" if unit.unit == unit.region_code else "единица"
        for code, fig in unit.figures.items():
            rows.append([report.period, level, text(unit.unit), text(unit.label),
                         text(unit.federal_district), code, text(info[code].unit),
                         num(fig.value), num(fig.numerator), num(fig.denominator),
                         num(fig.rank), "", "", num(unit.submission.version),
                         text(unit.submission.filename)])
    return rows


def csv_bytes(report: NationalReport, delimiter: str = ";", decimal: str = ",") -> bytes:
    if delimiter == decimal:
        raise ValueError("the delimiter and the decimal separator must differ")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(csv_rows(report, decimal))
    return buffer.getvalue().encode("utf-8-sig")


def write_csv(report: NationalReport, path: Path, *, delimiter: str = ";",
              decimal: str = ",") -> None:
    """Write the long-format CSV atomically. Defaults suit Russian Excel (``;`` and decimal
    comma); ``delimiter=",", decimal="."`` gives the international form."""
    write_atomically(Path(path), csv_bytes(report, delimiter, decimal))
