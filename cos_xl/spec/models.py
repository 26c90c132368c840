"""Pydantic models of a form specification (one TOML file per form version in templates/).

The ids declared here (input ids, indicator codes, defined names, UDF names) are the contract
between the workbook, the UDFs, the validator and the consolidation.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from xlsxwriter.utility import xl_cell_to_rowcol

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=60)]
PeriodText = Annotated[str, StringConstraints(pattern=r"^\d{4}Q[1-4]$")]

# Excel refuses a defined name that reads as a cell reference (E40107 is column E, row 40107)
# or as an R1C1 reference; such ids get a leading underscore as their defined name.
_A1_LIKE = re.compile(r"^[A-Za-z]{1,3}[0-9]+$")
_R1C1_LIKE = re.compile(r"^[Rr]([0-9]*)?([Cc][0-9]*)?$")


def excel_defined_name(identifier: str) -> str:
    """The workbook-level defined name for an id: the id itself unless Excel would read it as a
    cell reference (``e40107`` -> ``_e40107``)."""
    if _A1_LIKE.match(identifier):
        row, column = xl_cell_to_rowcol(identifier.upper())
        if column < 16384 and 0 <= row < 1_048_576:
            return "_" + identifier
    if _R1C1_LIKE.match(identifier):
        return "_" + identifier
    return identifier


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormInfo(_Strict):
    id: Identifier = Field(description="Stable id of the form, e.g. cos_2020")
    version: str = Field(description="Form version; changes whenever inputs, formulas or rules change")
    title: str = Field(description="Russian title of the form shown on every sheet")
    basis: str = Field(description="The document the form implements (Russian)")
    valid_from: PeriodText = Field(description="First reporting period the form is used for")
    valid_to: PeriodText | None = Field(None, description="Last period the form is used for")


class Group(_Strict):
    id: Identifier = Field(description="Programme group id: go, do, spo")
    title: str = Field(description="Russian name of the group")


class Section(_Strict):
    id: Identifier = Field(description="Id of a block of rows on the data sheet")
    title: str = Field(description="Russian heading of the block")
    sheet: Literal["title", "data"] = Field("data", description="Sheet the block is placed on")


class Input(_Strict):
    id: Identifier = Field(description="Stable input id; also the workbook defined name")
    kind: Literal["count", "text", "email", "phone", "choice"] = Field(
        "count", description="count: whole number >= 0; text/email/phone/choice: text"
    )
    section: Identifier = Field(description="Section (block of rows) the input belongs to")
    label: str = Field(description="Russian label shown beside the cell")
    short: str = Field(description="Short Russian name used in findings and tables")
    unit: str = Field("", description="Russian unit (чел., ед.)")
    hint: str = Field("", description="Russian hint shown beside the cell and in the input message")
    group: Identifier | None = Field(None, description="Programme group (go, do, spo) if any")
    part_of: Identifier | None = Field(None, description="The total this input is a part of")
    required: bool = Field(True, description="An empty cell is an error")
    choices: Identifier | None = Field(None, description="For kind=choice: the choice list id")

    @property
    def excel_name(self) -> str:
        return excel_defined_name(self.id)

    @model_validator(mode="after")
    def _choices_only_for_choice(self) -> Input:
        if (self.kind == "choice") != (self.choices is not None):
            raise ValueError("'choices' is required for kind='choice' and only allowed there")
        return self


class ChoiceList(_Strict):
    id: Identifier = Field(description="Choice list id")
    items: tuple[str, ...] = Field(min_length=1, description="Russian items of the list")


class Indicator(_Strict):
    code: str = Field(pattern=r"^E4\.\d\d(\.\d\d)?$", description="Indicator code, e.g. E4.03")
    name: Identifier = Field(description="Defined name of the value cell, e.g. IND_E4_03")
    udf: Identifier = Field(description="xlwings UDF name, e.g. COS_E403")
    kind: Literal["share", "count"] = Field(description="share: percent; count: persons")
    title: str = Field(description="Full Russian name of the indicator")
    short: str = Field(description="Short Russian name for tables and charts")
    method: str = Field(description="How it is computed, in plain Russian words")
    letter_item: int = Field(ge=1, description="Item of the ministry's letter")
    numerator: str = Field(description="Expression over input ids")
    denominator: str | None = Field(None, description="Expression over input ids (shares only)")
    unit: str = Field(description="Russian unit: % or чел.")
    target: float | None = Field(None, description="Regional target from the letter, if any")
    info_systems: bool = Field(True, description="Region declares the information systems used")
    national_note: str = Field("", description="Russian note on the national result, if any")

    @model_validator(mode="after")
    def _denominator_matches_kind(self) -> Indicator:
        if (self.kind == "share") != (self.denominator is not None):
            raise ValueError("a share needs a denominator and a count must not have one")
        return self

    @property
    def suffix(self) -> str:
        """``IND_E4_03`` -> ``E4_03``: the part shared by NUM_, DEN_, PREV_ and is_ names."""
        return self.name.removeprefix("IND_")

    @property
    def num_name(self) -> str:
        return f"NUM_{self.suffix}"

    @property
    def den_name(self) -> str:
        return f"DEN_{self.suffix}"

    @property
    def prev_name(self) -> str:
        return f"PREV_{self.suffix}"

    @property
    def is_name(self) -> str:
        return f"is_{self.suffix}"

    @property
    def is_other_name(self) -> str:
        return f"is_{self.suffix}_other"


class Rule(_Strict):
    """A consistency rule, possibly a template instantiated once per ``for_each`` binding."""

    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]*$")] = Field(
        description="Stable kebab-case finding code"
    )
    severity: Literal["error", "warning"] = Field(description="error blocks; warning may be explained")
    title: str = Field(description="Russian title of the rule")
    check: str = Field(description="Expression that is true when the data are consistent")
    when: str | None = Field(None, description="Expression; the rule applies only when it is true")
    message: str = Field(description="Russian message; {name} gives a value, {name.label} a label")
    target: Identifier = Field(description="Name (or binding) whose cell the finding points at")
    for_each: tuple[dict[Identifier, Identifier], ...] = Field(
        (), description="Bindings that instantiate the rule; empty means one plain rule"
    )


class FormSpec(_Strict):
    form: FormInfo
    groups: tuple[Group, ...]
    sections: tuple[Section, ...]
    choice_lists: tuple[ChoiceList, ...] = ()
    inputs: tuple[Input, ...]
    indicators: tuple[Indicator, ...]
    rules: tuple[Rule, ...]
