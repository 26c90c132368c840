"""The check sheet: every input check and every rule of the form as a live native formula that
shows OK or the Russian message the federal validator would give; warnings can be explained."""

from __future__ import annotations

from functools import partial

from cos_xl.core import RuleResult
from cos_xl.findings import SEVERITY_RU
from cos_xl.rules.inputs import OK, excel_input_check
from cos_xl.template.context import TemplateContext
from cos_xl.template.formulas import rule_formula
from cos_xl.template.layout import CHECK_COLS as C
from cos_xl.template.layout import CHECK_FIRST_ROW, CHECK_LAST_ROW, address, cell, ref
from cos_xl.template.writer import Sheet

ERRORS_NAME, WARNINGS_NAME, STATUS_NAME = "CHECK_ERRORS", "CHECK_WARNINGS", "CHECK_STATUS"
STATUS_ERRORS = "Есть ошибки: исправьте их перед отправкой"
STATUS_WARNINGS = "Есть предупреждения без пояснений"
STATUS_OK = "Ошибок нет, файл можно отправлять"


def _column(col: int) -> str:
    return f"{cell(CHECK_FIRST_ROW, col, True)}:{cell(CHECK_LAST_ROW, col, True)}"


def summary_formulas() -> dict[str, str]:
    sev, res, expl = _column(C["severity"]), _column(C["result"]), _column(C["explanation"])
    return {
        ERRORS_NAME: f'SUMPRODUCT(({sev}="{SEVERITY_RU["error"]}")*({res}<>"{OK}"))',
        WARNINGS_NAME: (f'SUMPRODUCT(({sev}="{SEVERITY_RU["warning"]}")*({res}<>"{OK}")'
                        f"*(LEN({expl})=0))"),
        STATUS_NAME: (f'IF({ERRORS_NAME}>0,"{STATUS_ERRORS}",IF({WARNINGS_NAME}>0,'
                      f'"{STATUS_WARNINGS}","{STATUS_OK}"))'),
    }


def write_checks(sheet: Sheet, ctx: TemplateContext, st: dict, names: dict[str, str],
                 checks: dict[str, dict[str, str]], input_problems: dict[str, tuple[str, str]],
                 rule_results: list[RuleResult]) -> None:
    ws = sheet.ws
    widths = {"no": 5, "code": 20, "severity": 15, "what": 50, "result": 70, "explanation": 45}
    for key, width in widths.items():
        ws.set_column(C[key], C[key], width)
    sheet.text(0, 0, "Проверки (те же, что выполнит федеральный валидатор)", st["title"])
    sheet.text(1, 0, ctx.heading, st["subtitle"])

    errors = sum(1 for _ in input_problems) + sum(
        1 for r in rule_results if r.rule.severity == "error" and r.message != OK)
    warnings = sum(1 for r in rule_results if r.rule.severity == "warning" and r.message != OK)
    cached = {ERRORS_NAME: errors, WARNINGS_NAME: warnings,
              STATUS_NAME: STATUS_ERRORS if errors else STATUS_WARNINGS if warnings else STATUS_OK}
    labels = {ERRORS_NAME: "Ошибок:", WARNINGS_NAME: "Предупреждений без пояснения:",
              STATUS_NAME: "Итог:"}
    for row, (name, formula) in enumerate(summary_formulas().items(), start=2):
        sheet.text(row, C["what"], labels[name], st["bold"])
        sheet.formula(row, C["result"], formula, st["bold"], cached[name])
        names[name] = ref(sheet.name, row, C["result"])

    header = {"no": "№", "code": "Код", "severity": "Вид", "what": "Что проверяется",
              "result": "Результат", "explanation": "Пояснение (для предупреждений)"}
    row = CHECK_FIRST_ROW - 1
    for key, text in header.items():
        sheet.text(row, C[key], text, st["header"])
    ws.set_row(row, 27)
    ws.freeze_panes(CHECK_FIRST_ROW, 0)

    row, number = CHECK_FIRST_ROW, 1
    for item in ctx.form.inputs:
        label = ctx.form.label(item.id)
        formulas = ctx.form.memoized(("input_check", item.id), partial(
            excel_input_check, item, ctx.form.excel_name(item.id), label))
        if formulas is None:
            continue
        code_f, message_f = formulas
        problem = input_problems.get(item.id)
        sheet.number(row, C["no"], number, st["center"])
        sheet.formula(row, C["code"], code_f, st["cell"], problem[0] if problem else "")
        sheet.text(row, C["severity"], SEVERITY_RU["error"], st["cell"])
        what = f"Поле {label}: заполнено, формат верен"
        sheet.text(row, C["what"], what, st["cell"])
        sheet.fit_row(row, [(what, widths["what"])])
        sheet.formula(row, C["result"], message_f, st["cell"], problem[1] if problem else OK)
        sheet.blank(row, C["explanation"], st["cell"])
        checks[f"input:{item.id}"] = {"result": address(sheet.name, row, C["result"])}
        row, number = row + 1, number + 1

    for result in rule_results:
        rule = result.rule
        sheet.number(row, C["no"], number, st["center"])
        sheet.text(row, C["code"], rule.code, st["cell"])
        sheet.text(row, C["severity"], SEVERITY_RU[rule.severity], st["cell"])
        what = f"{rule.title}: {ctx.form.label(rule.target)}"
        sheet.text(row, C["what"], what, st["cell"])
        sheet.fit_row(row, [(what, widths["what"])])
        sheet.formula(row, C["result"], rule_formula(ctx.form, rule), st["cell"], result.message)
        entry = {"result": address(sheet.name, row, C["result"])}
        if rule.severity == "warning":
            entry["explanation"] = sheet.input(row, C["explanation"], st["explanation"])
        else:
            sheet.blank(row, C["explanation"], st["cell"])
        checks[rule.id] = entry
        row, number = row + 1, number + 1
    if row > CHECK_LAST_ROW:
        raise AssertionError("the check sheet outgrew CHECK_LAST_ROW; raise it in layout.py")

    result_range = f"{cell(CHECK_FIRST_ROW, C['result'])}:{cell(row - 1, C['result'])}"
    ws.conditional_format(result_range, {"type": "cell", "criteria": "==", "value": f'"{OK}"',
                                         "format": st["ok"]})
    ws.conditional_format(result_range, {"type": "cell", "criteria": "!=", "value": f'"{OK}"',
                                         "format": st["bad"]})
    ws.conditional_format(f"{cell(2, C['result'])}:{cell(4, C['result'])}",
                          {"type": "text", "criteria": "containing", "value": "Ошибок нет",
                           "format": st["ok"]})

