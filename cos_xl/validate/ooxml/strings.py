"""The shared strings part: the texts cells of type ``s`` refer to by index. A rich-text item is
the text of its runs; phonetic runs (``rPh``) are not part of the text."""

from __future__ import annotations

from cos_xl.validate.ooxml.xml import Element, children, main_namespace, parse
from cos_xl.xlsxtext import excel_unescape


def shared_strings(name: str, data: bytes) -> tuple[str, ...]:
    root = parse(name, data)
    ns = main_namespace(root, name, "sst")
    t_tag = ns + "t"
    out = []
    for si in root.iterchildren(ns + "si"):
        if len(si) == 1 and si[0].tag == t_tag:  # a plain item: one <t>
            text = si[0].text or ""
            out.append(excel_unescape(text) if "_x" in text else text)
        else:
            out.append(rich_text(si, ns))
    return tuple(out)


def rich_text(elem: Element, ns: str) -> str:
    """Text of an ``<si>`` or ``<is>``: its ``<t>``, or the ``<t>`` of every ``<r>`` run."""
    t_tag, r_tag = ns + "t", ns + "r"
    parts = []
    for child in children(elem):
        if child.tag == t_tag:
            parts.append(child.text or "")
        elif child.tag == r_tag:
            parts.extend(grand.text or "" for grand in children(child, t_tag))
    return excel_unescape("".join(parts))
