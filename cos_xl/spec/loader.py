"""Load a form specification from TOML into a checked, compiled :class:`Form`.

A broken spec fails with one message naming the file, the key and the problem.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from cos_xl import expr
from cos_xl.errors import ExprError, SpecError
from cos_xl.spec.form import CompiledIndicator, Form, Label, RuleInstance, Value, parse_message
from cos_xl.spec.models import FormSpec, Input
from cos_xl.tomlfile import load_model

DEFAULT_FORM = "cos-2020"
INFO_SYSTEMS = "info_systems"


def templates_dir() -> Path:
    """The folder of form specifications: ``templates/`` in a checkout, packaged in a wheel."""
    packaged = resources.files("cos_xl").joinpath("_templates")
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "templates"


def available_forms() -> list[str]:
    return sorted(p.stem for p in templates_dir().glob("*.toml"))


@lru_cache(maxsize=16)
def load_form(name_or_path: str | Path = DEFAULT_FORM) -> Form:
    """Load a form by its file stem (``cos-2020``) or by a path to a TOML file."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = templates_dir() / f"{name_or_path}.toml"
        if not path.is_file():
            raise SpecError(
                f"Форма {name_or_path!r} не найдена (unknown form); есть: "
                + ", ".join(available_forms())
            )
    return load_form_file(path)


def load_form_file(path: Path) -> Form:
    spec = load_model(path, FormSpec, SpecError, "form specification", key_of=_key_path)
    return _compile(spec, path)


def _key_path(loc: tuple, data: dict) -> str:
    """``('inputs', 3, 'id')`` -> ``inputs[3] (id 'e403_go').id``: a key a person can find."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict):
                ident = node.get("id") or node.get("code")
                if ident:
                    out += f" ({ident!r})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _fail(path: Path, key: str, problem: str) -> SpecError:
    return SpecError(f"{path}: {key}: {problem}")


def _compile(spec: FormSpec, path: Path) -> Form:
    sections = {s.id: s for s in spec.sections}
    if len(sections) != len(spec.sections):
        raise _fail(path, "sections", "duplicate section id")
    groups = {g.id for g in spec.groups}
    lists = {c.id for c in spec.choice_lists}

    inputs = list(spec.inputs) + _info_system_inputs(spec, path, sections, lists)
    ids: dict[str, int] = {}
    for index, item in enumerate(inputs):
        key = f"inputs[{index}] ({item.id!r})"
        if item.id in ids:
            raise _fail(path, key, f"duplicate input id {item.id!r}")
        ids[item.id] = index
        if item.section not in sections:
            raise _fail(path, f"{key}.section", f"unknown section {item.section!r}")
        if item.group is not None and item.group not in groups:
            raise _fail(path, f"{key}.group", f"unknown group {item.group!r}")
        if item.choices is not None and item.choices not in lists:
            raise _fail(path, f"{key}.choices", f"unknown choice list {item.choices!r}")
    by_id = {item.id: item for item in inputs}
    for index, item in enumerate(inputs):
        if item.part_of is None:
            continue
        total = by_id.get(item.part_of)
        if total is None or total.kind != "count" or item.kind != "count":
            raise _fail(
                path, f"inputs[{index}] ({item.id!r}).part_of",
                f"{item.part_of!r} is not a count input of this form",
            )

    counts = {item.id for item in inputs if item.kind == "count"}
    indicators = []
    seen_codes: set[str] = set()
    for index, ind in enumerate(spec.indicators):
        key = f"indicators[{index}] ({ind.code!r})"
        if ind.code in seen_codes:
            raise _fail(path, key, "duplicate indicator code")
        seen_codes.add(ind.code)
        num = _parse(path, f"{key}.numerator", ind.numerator, counts)
        den = (
            _parse(path, f"{key}.denominator", ind.denominator, counts)
            if ind.denominator is not None else None
        )
        indicators.append(CompiledIndicator(ind, num, den))

    form = Form(spec=spec, path=path, inputs=tuple(inputs), indicators=tuple(indicators),
                rules=(), row_numbers=_row_numbers(spec, inputs))
    rules = _expand_rules(form, path)
    return Form(spec=spec, path=path, inputs=form.inputs, indicators=form.indicators,
                rules=rules, row_numbers=form.row_numbers)


def _info_system_inputs(spec: FormSpec, path: Path, sections: dict, lists: set) -> list[Input]:
    """Each indicator with ``info_systems`` asks for a choice and a free-text list of systems."""
    wanted = [ind for ind in spec.indicators if ind.info_systems]
    if not wanted:
        return []
    if INFO_SYSTEMS not in sections or INFO_SYSTEMS not in lists:
        raise _fail(path, "sections", f"indicators declare information systems: the form needs "
                    f"a section and a choice list with id {INFO_SYSTEMS!r}")
    derived = []
    for ind in wanted:
        derived.append(Input(
            id=ind.is_name, kind="choice", section=INFO_SYSTEMS, choices=INFO_SYSTEMS,
            required=False, label=f"{ind.code}: основная информационная система",
            short=f"ИС для {ind.code}", hint="Выберите из списка",
        ))
        derived.append(Input(
            id=ind.is_other_name, kind="text", section=INFO_SYSTEMS, required=False,
            label=f"{ind.code}: другие системы (через точку с запятой)",
            short=f"другие ИС для {ind.code}", hint="Например: Дневник.ру; Сетевой город",
        ))
    return derived


def _row_numbers(spec: FormSpec, inputs: list[Input]) -> dict[str, str]:
    """Row numbers on the data sheet: section 1, 2, … and ``1.1``, ``1.2`` … within each."""
    numbers: dict[str, str] = {}
    data_sections = [s.id for s in spec.sections if s.sheet == "data"]
    for s_index, section in enumerate(data_sections, start=1):
        members = [item for item in inputs if item.section == section]
        for i_index, item in enumerate(members, start=1):
            numbers[item.id] = f"{s_index}.{i_index}"
    return numbers


def _parse(path: Path, key: str, source: str, allowed: set[str] | frozenset[str]) -> expr.Expr:
    try:
        parsed = expr.parse(source)
    except ExprError as exc:
        raise _fail(path, key, str(exc)) from exc
    unknown = sorted(expr.names(parsed) - set(allowed))
    if unknown:
        raise _fail(path, key, f"unknown names {', '.join(unknown)} in {source!r}")
    return parsed


def _expand_rules(form: Form, path: Path) -> tuple[RuleInstance, ...]:
    known = form.known_names
    out: list[RuleInstance] = []
    seen: set[str] = set()
    for index, rule in enumerate(form.spec.rules):
        key = f"rules[{index}] ({rule.code!r})"
        try:
            check = expr.parse(rule.check)
            when = expr.parse(rule.when) if rule.when else None
        except ExprError as exc:
            raise _fail(path, key, str(exc)) from exc
        for b_index, bindings in enumerate(rule.for_each or ({},)):
            bkey = f"{key}.for_each[{b_index}]" if rule.for_each else key
            unknown_targets = sorted(set(bindings.values()) - known)
            if unknown_targets:
                raise _fail(path, bkey, f"unknown names {', '.join(unknown_targets)}")
            try:
                message = parse_message(rule.message, bindings)
            except ExprError as exc:
                raise _fail(path, f"{key}.message", str(exc)) from exc
            instance = RuleInstance(
                id=f"{rule.code}:{bindings.get(rule.target, rule.target)}",
                code=rule.code, severity=rule.severity, title=rule.title,
                check=expr.substitute(check, bindings),
                when=expr.substitute(when, bindings) if when is not None else None,
                message=message, target=bindings.get(rule.target, rule.target),
            )
            unknown = sorted(instance.names() - known)
            if unknown:
                raise _fail(path, bkey, f"unknown names {', '.join(unknown)}")
            if instance.target not in known:
                raise _fail(path, f"{key}.target", f"unknown name {instance.target!r}")
            if instance.id in seen:
                raise _fail(path, bkey, f"duplicate rule instance {instance.id!r}")
            seen.add(instance.id)
            out.append(instance)
    return tuple(out)


__all__ = ["DEFAULT_FORM", "Form", "Label", "Value", "available_forms", "load_form",
           "load_form_file", "templates_dir"]
