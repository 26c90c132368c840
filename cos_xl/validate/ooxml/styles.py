"""The styles part: for each cell format (``cellXfs``) whether it locks the cell and which number
format it shows numbers in."""

from __future__ import annotations

from dataclasses import dataclass

from cos_xl.validate.ooxml.model import xml_bool
from cos_xl.validate.ooxml.xml import children, main_namespace, parse

#: The built-in number formats (ECMA-376 Part 1, 18.8.30) a cell may name by id alone.
BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%",
    11: "0.00E+00", 12: "# ?/?", 13: "# ??/??", 14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm",
    17: "mmm-yy", 18: "h:mm AM/PM", 19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss",
    22: "m/d/yy h:mm", 37: "#,##0 ;(#,##0)", 38: "#,##0 ;[Red](#,##0)",
    39: "#,##0.00;(#,##0.00)", 40: "#,##0.00;[Red](#,##0.00)", 45: "mm:ss", 46: "[h]:mm:ss",
    47: "mmss.0", 48: "##0.0E+0", 49: "@",
}


@dataclass(frozen=True)
class CellFormat:
    locked: bool
    number_format: str


DEFAULT = CellFormat(True, "General")


def cell_formats(name: str, data: bytes) -> tuple[CellFormat, ...]:
    """The ``cellXfs`` of a styles part, in order (a cell's ``s`` is an index into them)."""
    root = parse(name, data)
    ns = main_namespace(root, name, "styleSheet")
    custom: dict[int, str] = {}
    for parent in children(root, ns + "numFmts"):
        for fmt in children(parent, ns + "numFmt"):
            try:
                custom[int(fmt.get("numFmtId") or "")] = fmt.get("formatCode") or ""
            except ValueError:
                raise ValueError(f"{name}: a numFmt with numFmtId "
                                 f"{fmt.get('numFmtId')!r}") from None
    out = []
    for parent in children(root, ns + "cellXfs"):
        for xf in children(parent, ns + "xf"):
            protection = next(children(xf, ns + "protection"), None)
            locked = xml_bool(protection.get("locked"), True) if protection is not None else True
            try:
                fmt_id = int(xf.get("numFmtId") or 0)
            except ValueError:
                raise ValueError(f"{name}: a cell format with numFmtId "
                                 f"{xf.get('numFmtId')!r}") from None
            number_format = custom.get(fmt_id, BUILTIN_FORMATS.get(fmt_id, f"#{fmt_id}"))
            out.append(CellFormat(locked, number_format))
    return tuple(out)
