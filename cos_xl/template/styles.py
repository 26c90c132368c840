"""Cell formats of the template: input cells look different from everything else."""

from __future__ import annotations

INPUT_FILL = "#FFF2CC"
HEADER_FILL = "#D9E1F2"
SECTION_FILL = "#EDEDED"
COMPUTED_FILL = "#E2EFDA"


def make_styles(workbook) -> dict:
    base = {"font_name": "Arial", "font_size": 10, "valign": "top"}

    def fmt(**props):
        return workbook.add_format({**base, **props})

    return {
        "title": fmt(bold=True, font_size=14),
        "subtitle": fmt(italic=True, font_color="#44546A"),
        "text": fmt(text_wrap=True),
        "bold": fmt(bold=True),
        "small": fmt(font_size=8, font_color="#808080"),
        "header": fmt(bold=True, bg_color=HEADER_FILL, border=1, text_wrap=True, align="center",
                      valign="vcenter"),
        "section": fmt(bold=True, bg_color=SECTION_FILL, border=1),
        "label": fmt(text_wrap=True, border=1),
        "cell": fmt(border=1, text_wrap=True),
        "center": fmt(border=1, align="center"),
        "hint": fmt(text_wrap=True, italic=True, font_color="#595959", border=1),
        "input_count": fmt(locked=False, bg_color=INPUT_FILL, border=1, num_format="#,##0"),
        "input_text": fmt(locked=False, bg_color=INPUT_FILL, border=1, text_wrap=True,
                          num_format="@"),
        "explanation": fmt(locked=False, bg_color=INPUT_FILL, border=1, text_wrap=True),
        "computed_share": fmt(bg_color=COMPUTED_FILL, border=1, num_format="0.0", bold=True),
        "computed_count": fmt(bg_color=COMPUTED_FILL, border=1, num_format="#,##0", bold=True),
        "number": fmt(border=1, num_format="#,##0"),
        "share": fmt(border=1, num_format="0.0"),
        "date": fmt(num_format="DD.MM.YYYY", align="left"),
        "yes_no": fmt(num_format='"да";"да";"нет"', align="left"),
        "ok": workbook.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
        "bad": workbook.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
        "warn": workbook.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"}),
    }
