"""What the region's return gets from its units: every count input is the sum over the units'
latest accepted returns; the texts come from the campaign; the information system of each
indicator is the one the units named, or «Несколько систем» with their list when they differ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cos_xl.errors import CosXlError
from cos_xl.spec import Form
from cos_xl.submission import Submission

#: the choice meaning "several systems" (its list goes into the «другие системы» text)
SEVERAL_PREFIX = "Несколько систем"
MAX_TEXT = 255


class RollupError(CosXlError):
    """The regional return cannot be rolled up (texts missing, wrong template, …)."""


class UnitsMissing(RollupError):
    """Some units issued a workbook have no accepted return: the sums would be too low."""


@dataclass(frozen=True)
class Sums:
    #: input id -> value for the region's return (numbers, texts, choices)
    values: dict[str, object]
    #: count input id -> sum (also in ``values``)
    totals: dict[str, float]
    #: a few Russian lines on how the non-numeric inputs were chosen
    notes: tuple[str, ...]


def count_inputs(form: Form) -> list[str]:
    return [item.id for item in form.inputs if item.kind == "count"]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _join(parts: Sequence[str]) -> str:
    text = "; ".join(parts)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1].rstrip("; ") + "…"


def roll_up(form: Form, accepted: Sequence[Submission], texts: Mapping[str, str]) -> Sums:
    """The region's inputs from its units' accepted returns and the campaign's ``texts``."""
    known = {item.id: item for item in form.inputs}
    unknown = sorted(set(texts) - set(known))
    if unknown:
        raise RollupError(f"В разделе [rollup] настроек кампании неизвестные поля: "
                          f"{', '.join(unknown)}; известны: "
                          f"{', '.join(i.id for i in form.inputs if i.kind != 'count')}")
    counts = [i for i in texts if known[i].kind == "count"]
    if counts:
        raise RollupError(f"Поля {', '.join(counts)} — числа, они суммируются по отчётам МО; "
                          "в разделе [rollup] задаются только тексты")
    values: dict[str, object] = {}
    totals: dict[str, float] = {}
    for input_id in count_inputs(form):
        total = sum(_number(s.values.get(input_id)) or 0.0 for s in accepted)
        totals[input_id] = total
        values[input_id] = _whole(total)
    notes: list[str] = []
    lists = {choice_list.id: choice_list.items for choice_list in form.spec.choice_lists}
    for ind in form.indicators:
        if not ind.spec.info_systems:
            continue
        choice_id, other_id = ind.spec.is_name, ind.spec.is_other_name
        chosen = list(dict.fromkeys(str(s.values[choice_id]).strip() for s in accepted
                                    if s.values.get(choice_id) not in (None, "")))
        others = list(dict.fromkeys(str(s.values[other_id]).strip() for s in accepted
                                    if s.values.get(other_id) not in (None, "")))
        several = next((item for item in lists.get(known[choice_id].choices or "", ())
                        if item.startswith(SEVERAL_PREFIX)), None)
        if len(chosen) > 1 and several is not None:
            values[choice_id] = several
            named = [c for c in chosen if c != several and "укажите" not in c]
            values[other_id] = _join(named + others) or None
            notes.append(f"{ind.spec.code}: МО назвали разные системы — выбрано «{several}», "
                         "их список — в графе «Другие системы»")
        else:
            values[choice_id] = chosen[0] if chosen else None
            values[other_id] = _join(others) or None
    for input_id, text in texts.items():
        values[input_id] = text.strip() or None
    missing = [known[i].short for i in known
               if known[i].kind in ("text", "email", "phone") and known[i].required
               and not values.get(i)]
    if missing:
        raise RollupError(
            "Не заданы тексты отчёта субъекта: " + ", ".join(f"«{m}»" for m in missing) +
            ". Добавьте их в настройки кампании (--config), раздел [rollup], например:\n"
            "  [rollup]\n  resp_name = \"Иванова Мария Петровна\"\n"
            "  resp_position = \"Консультант отдела …\"\n  resp_phone = \"+7 (495) 123-45-67\"\n"
            "  resp_email = \"ivanova@edu.region.ru\"")
    return Sums(values, totals, tuple(notes))
