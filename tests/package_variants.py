"""Variants of a returned workbook's package, made at the ZIP/XML level for the
parser-differential corpus (tests/test_parser_differential.py).

``HONEST`` rewrites the markup without changing what any spreadsheet program reads: namespace
prefixes, quoting and order of attributes, character references, CDATA, comments, inline
strings, positional rows and cells, whitespace, the order, compression and names of the parts.
``DISGUISED`` changes what an office program reads or shows while looking like the plain file to
a careless reader: a cell or a part given twice, a relationship pointed elsewhere, a cached
formula result, a number format. Each variant is a function ``bytes -> bytes`` over the whole
package; the helpers assume the plain markup of LibreOffice and XlsxWriter (no comments, no
CDATA, one default namespace per part) and assert it where it matters.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

from test_safety import make_zip, parts

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
BOOK_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"

Parts = list[tuple[str, bytes]]
Variant = Callable[[bytes], bytes]

#: a tag, with ">" allowed inside quoted attribute values
TAG = re.compile(r"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")
ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*')""")
START = re.compile(r"""<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(/?)>""")


# -- the package: parts by name ---------------------------------------------------------------

def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels"))


def _edit_parts(data: bytes, edit: Callable[[str, str], str],
                which: Callable[[str, str], bool] = lambda name, text: True) -> bytes:
    """The package with ``edit(name, text)`` applied to every XML part ``which`` selects."""
    out = []
    for name, raw in parts(data):
        if _is_xml(name):
            text = raw.decode("utf-8")
            if which(name, text):
                raw = edit(name, text).encode("utf-8")
        out.append((name, raw))
    return make_zip(out)


def _spreadsheetml(name: str, text: str) -> bool:
    return f'xmlns="{MAIN}"' in text


def _part(items: Parts, name: str) -> str:
    return dict(items)[name].decode("utf-8")


def _replace(items: Parts, name: str, text: str) -> Parts:
    return [(n, text.encode("utf-8") if n == name else raw) for n, raw in items]


def _relationships(rels: str) -> list[dict[str, str]]:
    return [_attrs(tag) for tag in re.findall(r"<Relationship\b[^>]*>", rels)]


def _attrs(tag: str) -> dict[str, str]:
    return {k: html.unescape(v[1:-1]) for k, v in ATTR.findall(tag)}


def _rels_name(part: str) -> str:
    folder, _, file = part.rpartition("/")
    return f"{folder}/_rels/{file}.rels" if folder else f"_rels/{file}.rels"


def _workbook_part(items: Parts) -> str:
    (rel,) = [r for r in _relationships(_part(items, "_rels/.rels"))
              if r["Type"].endswith("/officeDocument")]
    return rel["Target"].lstrip("/")


def sheet_part(items: Parts, sheet: str) -> str:
    """The name of the part that holds the sheet called ``sheet``."""
    book = _workbook_part(items)
    (tag,) = [t for t in re.findall(r"<sheet\b[^>]*>", _part(items, book))
              if _attrs(t)["name"] == sheet]
    rid = _attrs(tag)["r:id"]
    (rel,) = [r for r in _relationships(_part(items, _rels_name(book))) if r["Id"] == rid]
    return _resolve(book, rel["Target"])


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    folder = source.rpartition("/")[0]
    return f"{folder}/{target}" if folder else target


def _override(types: str, part: str, content_type: str) -> str:
    return types.replace("</Types>", f'<Override PartName="/{part}" '
                                     f'ContentType="{content_type}"/></Types>')


# -- cells --------------------------------------------------------------------------------------

def split_address(address: str) -> tuple[str, str]:
    """``Данные!D6`` -> ("Данные", "D6")."""
    sheet, cell = address.rsplit("!", 1)
    return sheet.strip("'"), cell.replace("$", "")


def _cell_pattern(ref: str) -> re.Pattern[str]:
    return re.compile(rf'<c r="{ref}"(?:[^>]*/>|[^>]*>.*?</c>)', re.DOTALL)


def _cell(sheet_xml: str, ref: str) -> str:
    (cell,) = _cell_pattern(ref).findall(sheet_xml)
    return cell


def _style(cell: str) -> str:
    return re.search(r'\ss="(\d+)"', cell).group(1)


def _number_cell(ref: str, style: str, value: float) -> str:
    return f'<c r="{ref}" s="{style}" t="n"><v>{value}</v></c>'


def _text_cell(ref: str, style: str, text: str) -> str:
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{html.escape(text)}</t></is></c>'


def _with_value(cell: str, value: float) -> str:
    return re.sub(r"<v>[^<]*</v>", f"<v>{value}</v>", cell)


# -- honest variants -----------------------------------------------------------------------------

def prefixed(data: bytes) -> bytes:
    """The SpreadsheetML namespace bound to the prefix ``x:`` instead of the default."""
    def edit(name: str, text: str) -> str:
        assert text.count('xmlns="') == 1, name  # no other default namespace to keep apart
        text = text.replace(f'xmlns="{MAIN}"', f'xmlns:x="{MAIN}"')
        return re.sub(r"<(/?)([A-Za-z_][\w.-]*)(?=[\s/>])", r"<\1x:\2", text)
    return _edit_parts(data, edit, _spreadsheetml)


def _each_start_tag(text: str, change: Callable[[str, list[tuple[str, str]], str], str]) -> str:
    return START.sub(lambda m: change(m.group(1), ATTR.findall(m.group(2)), m.group(3)), text)


def _tag(name: str, attrs: list[tuple[str, str]], empty: str, sep: str = " ",
         end: str = "") -> str:
    inside = "".join(f"{sep}{k}={v}" for k, v in attrs)
    return f"<{name}{inside}{end}{empty}>"


def single_quoted(data: bytes) -> bytes:
    """Every attribute value in single quotes."""
    def quote(value: str) -> str:
        return "'" + value[1:-1].replace("'", "&apos;") + "'"
    return _edit_parts(data, lambda name, text: _each_start_tag(
        text, lambda tag, attrs, empty: _tag(tag, [(k, quote(v)) for k, v in attrs], empty)))


def reversed_attributes(data: bytes) -> bytes:
    """The attributes of every element (namespace declarations too) in reverse order."""
    return _edit_parts(data, lambda name, text: _each_start_tag(
        text, lambda tag, attrs, empty: _tag(tag, attrs[::-1], empty)))


def spaced_tags(data: bytes) -> bytes:
    """Line breaks and tabs between the attributes of a tag, a space before its end."""
    return _edit_parts(data, lambda name, text: _each_start_tag(
        text, lambda tag, attrs, empty: _tag(tag, attrs, empty, sep="\n\t ", end=" ")))


def _texts(tag: str, change: Callable[[str], str]) -> Callable[[str, str], str]:
    """An edit of the text of every ``<tag>`` element (no children, unprefixed)."""
    pattern = re.compile(rf"(<{tag}(?:\s[^>]*)?>)([^<]+)(</{tag}>)")
    return lambda name, text: pattern.sub(lambda m: m[1] + change(m[2]) + m[3], text)


def character_references(data: bytes) -> bytes:
    """Digits of values (``<v>``, decimal ``&#49;``) and of strings (``<t>``, hex ``&#x31;``)
    written as character references."""
    values = _texts("v", lambda s: re.sub(r"\d", lambda d: f"&#{ord(d[0])};", s))
    strings = _texts("t", lambda s: re.sub(r"\d", lambda d: f"&#x{ord(d[0]):x};", s))
    return _edit_parts(data, lambda name, text: strings(name, values(name, text)),
                       _spreadsheetml)


def _cdata(escaped: str) -> str:
    assert "&#" not in escaped  # a referenced CR would not survive inside CDATA
    return "<![CDATA[" + html.unescape(escaped).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def cdata_strings(data: bytes) -> bytes:
    """Every string (``<t>``) as a CDATA section."""
    return _edit_parts(data, _texts("t", _cdata), _spreadsheetml)


def cdata_formulas(data: bytes) -> bytes:
    """Every formula (``<f>``) as a CDATA section."""
    return _edit_parts(data, _texts("f", _cdata), _spreadsheetml)


def comments_between_elements(data: bytes) -> bytes:
    """An XML comment between every two adjacent tags of every XML part."""
    return _edit_parts(data, lambda name, text: text.replace("><", "><!-- cos --><"))


def comments_inside_values(data: bytes) -> bytes:
    """A comment inside the text of every value and string of two characters or more
    (``<v>12<!---->50</v>``): the text around it is one text."""
    def split(text: str) -> str:
        first = re.match(r"&[^;]*;|.", text, re.DOTALL).group()  # never inside a reference
        return first + "<!---->" + text[len(first):] if len(text) > len(first) else text
    values, strings = _texts("v", split), _texts("t", split)
    return _edit_parts(data, lambda name, text: strings(name, values(name, text)),
                       _spreadsheetml)


def pretty_printed(data: bytes) -> bytes:
    """Every XML part indented, one element a line (no whitespace added to any text)."""
    def indent(name: str, text: str) -> str:
        out, depth, previous, pos = [], 0, None, 0
        for m in TAG.finditer(text):
            tag, between = m.group(), text[pos:m.start()]
            closing = tag.startswith("</")
            if closing:
                depth -= 1
            if not between and previous is not None and not (closing and previous == "open"):
                out.append("\n" + "  " * depth)
            out += [between, tag]
            if tag.startswith(("<?", "<!")) or closing or tag.endswith("/>"):
                previous = "other"
            else:
                previous, depth = "open", depth + 1
            pos = m.end()
        return "".join(out) + text[pos:]
    return _edit_parts(data, indent)


def _shared_strings(items: Parts) -> tuple[str, list[str]]:
    """The shared-strings part's name and the inner XML of its items."""
    book = _workbook_part(items)
    (rel,) = [r for r in _relationships(_part(items, _rels_name(book)))
              if r["Type"].endswith("/sharedStrings")]
    name = _resolve(book, rel["Target"])
    sst = _part(items, name)
    return name, [m[1] or "" for m in re.finditer(r"<si>(.*?)</si>|<si/>", sst, re.DOTALL)]


def _sheets(items: Parts) -> list[str]:
    return [name for name, raw in items
            if _is_xml(name) and b"<worksheet " in raw[:400]]


_STRING_CELL = re.compile(r'<c ([^>]*?)t="s"([^>]*)><v>(\d+)</v></c>')


def inline_strings(data: bytes) -> bytes:
    """Every shared string written into its cell (``t="inlineStr"``); no shared-strings part."""
    items = parts(data)
    sst, strings = _shared_strings(items)
    for sheet in _sheets(items):
        text = _STRING_CELL.sub(
            lambda m: f'<c {m[1]}t="inlineStr"{m[2]}><is>{strings[int(m[3])]}</is></c>',
            _part(items, sheet))
        items = _replace(items, sheet, text)
    book = _workbook_part(items)
    rels = re.sub(r'<Relationship\b[^>]*/sharedStrings"[^>]*/>', "",
                  _part(items, _rels_name(book)))
    types = re.sub(rf'<Override PartName="/{sst}"[^>]*/>', "", _part(items, "[Content_Types].xml"))
    items = _replace(_replace(items, _rels_name(book), rels), "[Content_Types].xml", types)
    return make_zip([(n, raw) for n, raw in items if n != sst])


def shared_strings_reordered(data: bytes) -> bytes:
    """The shared strings in reverse order, every cell's index changed to match."""
    items = parts(data)
    sst, strings = _shared_strings(items)
    last = len(strings) - 1
    head = re.match(r"(?s).*?<sst\b[^>]*>", _part(items, sst)).group()
    items = _replace(items, sst, head + "".join(f"<si>{s}</si>" for s in strings[::-1])
                     + "</sst>")
    for sheet in _sheets(items):
        items = _replace(items, sheet, _STRING_CELL.sub(
            lambda m: f'<c {m[1]}t="s"{m[2]}><v>{last - int(m[3])}</v></c>',
            _part(items, sheet)))
    return make_zip(items)


def _positional(text: str, element: str, number: Callable[[str], int]) -> str:
    """``r`` dropped from each ``element`` whose position follows from the one before."""
    previous = 0

    def drop(m: re.Match[str]) -> str:
        nonlocal previous
        here = number(m[2])
        implied, previous = here == previous + 1, here
        return m[1] + m[3] if implied else m[0]
    return re.sub(rf'(<{element}\b[^>]*?) r="([^"]+)"([^>]*>)', drop, text)


def rows_without_r(data: bytes) -> bytes:
    """``<row>`` without ``r`` wherever it is the row after the one before."""
    return _edit_parts(data, lambda name, text: _positional(text, "row", int),
                       lambda name, text: "<sheetData" in text)


def _column(ref: str) -> int:
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group():
        n = n * 26 + ord(ch) - 64
    return n


def cells_without_r(data: bytes) -> bytes:
    """``<c>`` without ``r`` wherever it is the cell after the one before in its row."""
    row = re.compile(r"(<row\b[^>]*>)(.*?)(</row>)", re.DOTALL)

    def edit(name: str, text: str) -> str:
        return row.sub(lambda m: m[1] + _positional(m[2], "c", _column) + m[3], text)
    return _edit_parts(data, edit, lambda name, text: "<sheetData" in text)


def booleans_respelled(data: bytes) -> bytes:
    """Boolean attributes of the protection elements spelled the other way (1 <-> true)."""
    other = {"1": "true", "0": "false", "true": "1", "false": "0"}

    def respell(tag: str, attrs: list[tuple[str, str]], empty: str) -> str:
        if tag not in ("sheetProtection", "workbookProtection", "protection"):
            return _tag(tag, attrs, empty)
        return _tag(tag, [(k, f'"{other.get(v[1:-1], v[1:-1])}"') for k, v in attrs], empty)
    return _edit_parts(data, lambda name, text: _each_start_tag(text, respell),
                       _spreadsheetml)


def zip_reversed(data: bytes) -> bytes:
    """The ZIP entries in reverse order ([Content_Types].xml last or first)."""
    return make_zip(parts(data)[::-1])


def zip_stored(data: bytes) -> bytes:
    """Every ZIP entry stored, not deflated."""
    return make_zip(parts(data), zipfile.ZIP_STORED)


def relationship_ids_renamed(data: bytes) -> bytes:
    """The workbook's relationship ids renamed (``rId3`` -> ``cos97``), both where they are
    declared and where the workbook uses them."""
    items = parts(data)
    book = _workbook_part(items)
    for name in (book, _rels_name(book)):
        items = _replace(items, name, re.sub(r'((?:r:id|Id)=")rId(\d+)"',
                                             lambda m: f'{m[1]}cos{100 - int(m[2])}"',
                                             _part(items, name)))
    return make_zip(items)


def sheet_parts_renamed(data: bytes) -> bytes:
    """The worksheet parts renamed against the sheet order (``sheet1.xml`` -> ``page7.xml``),
    in the relationships, the content types and the ZIP."""
    items = parts(data)
    sheets = sorted(_sheets(items))
    new = {old: f"xl/worksheets/page{len(sheets) - i}.xml" for i, old in enumerate(sheets)}
    book = _workbook_part(items)

    def retarget(m: re.Match[str]) -> str:
        target = _resolve(book, m[2])
        return m[1] + (new[target].removeprefix("xl/") if target in new else m[2]) + '"'
    rels = re.sub(r'(Target=")([^"]+)"', retarget, _part(items, _rels_name(book)))
    types = _part(items, "[Content_Types].xml")
    for old, renamed in new.items():
        types = types.replace(f'"/{old}"', f'"/{renamed}"')
    items = _replace(_replace(items, _rels_name(book), rels), "[Content_Types].xml", types)
    renames = {**new, **{_rels_name(o): _rels_name(n) for o, n in new.items()}}
    return make_zip([(renames.get(n, n), raw) for n, raw in items])


HONEST: dict[str, Variant] = {
    "ns-prefix": prefixed,
    "single-quotes": single_quoted,
    "attribute-order": reversed_attributes,
    "breaks-in-tags": spaced_tags,
    "char-refs": character_references,
    "cdata-strings": cdata_strings,
    "cdata-formulas": cdata_formulas,
    "comments-between": comments_between_elements,
    "comments-inside": comments_inside_values,
    "pretty-printed": pretty_printed,
    "inline-strings": inline_strings,
    "sst-reordered": shared_strings_reordered,
    "rows-without-r": rows_without_r,
    "cells-without-r": cells_without_r,
    "booleans-respelled": booleans_respelled,
    "zip-reversed": zip_reversed,
    "zip-stored": zip_stored,
    "rids-renamed": relationship_ids_renamed,
    "parts-renamed": sheet_parts_renamed,
}


# -- disguised edits ----------------------------------------------------------------------------

DATA = "Данные"
INPUT = "D6"           # students_go: 1 250 000 in the plain return
DISGUISE = 1_300_000   # as valid as the plain value, so only reading it right can tell
INDICATOR = ("Показатели", "E6")  # E4.03, a formula
LABEL = (DATA, "B6")
PHONE = ("Титул", "B16")  # resp_phone, a text input


def _edit_cell(data: bytes, sheet: str, change: Callable[[str], str]) -> bytes:
    items = parts(data)
    name = sheet_part(items, sheet)
    return make_zip(_replace(items, name, change(_part(items, name))))


def _after(ref: str, extra: Callable[[str], str]) -> Callable[[str], str]:
    """The cell ``ref`` followed by ``extra(cell)``."""
    return lambda text: _cell_pattern(ref).sub(lambda m: m[0] + extra(m[0]), text, count=1)


def duplicate_input_after(data: bytes) -> bytes:
    """The input cell followed by a second one of the same ``r`` with another value."""
    return _edit_cell(data, DATA, _after(INPUT, lambda c: _with_value(c, DISGUISE)))


def duplicate_input_before(data: bytes) -> bytes:
    """The input cell preceded by a second one of the same ``r`` with another value."""
    return _edit_cell(data, DATA, lambda text: _cell_pattern(INPUT).sub(
        lambda m: _with_value(m[0], DISGUISE) + m[0], text, count=1))


def duplicate_row(data: bytes) -> bytes:
    """Row 6 of the data sheet given twice, the input another value in the second."""
    row = re.compile(r'<row r="6"[^>]*>.*?</row>', re.DOTALL)

    def change(text: str) -> str:
        return row.sub(lambda m: m[0] + _cell_pattern(INPUT).sub(
            lambda c: _with_value(c[0], DISGUISE), m[0]), text, count=1)
    return _edit_cell(data, DATA, change)


def duplicate_formula_cell(data: bytes) -> bytes:
    """The indicator's formula cell followed by a constant in a cell of the same ``r``."""
    sheet, ref = INDICATOR
    return _edit_cell(data, sheet, _after(ref, lambda c: _number_cell(ref, _style(c), 99.5)))


def duplicate_label_cell(data: bytes) -> bytes:
    """A locked label followed by another text in a cell of the same ``r``."""
    sheet, ref = LABEL
    return _edit_cell(data, sheet, _after(
        ref, lambda c: _text_cell(ref, _style(c), "Численность обучающихся (любых)")))


def _disguised_data_sheet(items: Parts) -> str:
    text = _part(items, sheet_part(items, DATA))
    return _cell_pattern(INPUT).sub(lambda m: _with_value(m[0], DISGUISE), text, count=1)


def zip_duplicate_entry(data: bytes) -> bytes:
    """The data sheet's part a second time in the ZIP, under the same name, another value."""
    items = parts(data)
    return make_zip(items + [(sheet_part(items, DATA), _disguised_data_sheet(items).encode())])


def zip_case_variant(data: bytes) -> bytes:
    """The data sheet's part a second time, its name in capitals, another value."""
    items = parts(data)
    name = sheet_part(items, DATA)
    return make_zip(items + [(name.upper(), _disguised_data_sheet(items).encode())])


COPY = "xl/worksheets/sheet99.xml"


def _with_copy(items: Parts) -> Parts:
    types = _override(_part(items, "[Content_Types].xml"), COPY, SHEET_TYPE)
    return _replace(items, "[Content_Types].xml", types) + [
        (COPY, _disguised_data_sheet(items).encode())]


def unreferenced_copy(data: bytes) -> bytes:
    """A copy of the data sheet with another value, in the package but in no relationship."""
    return make_zip(_with_copy(parts(data)))


def _retarget(rels: str, old: str, new: str) -> str:
    assert f'Target="{old}"' in rels
    return rels.replace(f'Target="{old}"', f'Target="{new}"')


def _relative(book: str, part: str) -> str:
    return part.removeprefix(book.rpartition("/")[0] + "/")


def sheet_repointed(data: bytes) -> bytes:
    """The data sheet's relationship pointed at a copy with another value."""
    items = _with_copy(parts(data))
    book, name = _workbook_part(items), sheet_part(items, DATA)
    rels = _retarget(_part(items, _rels_name(book)), _relative(book, name), _relative(book, COPY))
    return make_zip(_replace(items, _rels_name(book), rels))


def sheets_swapped(data: bytes) -> bytes:
    """The relationships of «Данные» and «Показатели» point at each other's part."""
    items = parts(data)
    book = _workbook_part(items)
    a, b = (_relative(book, sheet_part(items, s)) for s in (DATA, INDICATOR[0]))
    rels = _part(items, _rels_name(book)).replace(f'"{a}"', '"@"').replace(
        f'"{b}"', f'"{a}"').replace('"@"', f'"{b}"')
    return make_zip(_replace(items, _rels_name(book), rels))


RESPONSIBLE = "Иванова Мария Петровна"


def shared_strings_repointed(data: bytes) -> bytes:
    """The shared-strings relationship pointed at a copy where the responsible person's name
    is another."""
    items = parts(data)
    book = _workbook_part(items)
    sst, _ = _shared_strings(items)
    copy = sst.replace("sharedStrings", "sharedStrings2")
    text = _part(items, sst)
    assert text.count(f">{RESPONSIBLE}</t>") == 1
    items = _replace(items, "[Content_Types].xml",
                     _override(_part(items, "[Content_Types].xml"), copy, SST_TYPE))
    rels = _retarget(_part(items, _rels_name(book)), _relative(book, sst), _relative(book, copy))
    items = _replace(items, _rels_name(book), rels)
    return make_zip(items + [(copy, text.replace(f">{RESPONSIBLE}</t>",
                                                 ">Петрова Анна Ивановна</t>").encode())])


def workbook_repointed(data: bytes) -> bytes:
    """The package's officeDocument relationship pointed at a copy of the workbook part whose
    own relationships send «Данные» to a copy with another value."""
    items = _with_copy(parts(data))
    book = _workbook_part(items)
    copy = book.replace("workbook", "book2")
    rels = _retarget(_part(items, _rels_name(book)),
                     _relative(book, sheet_part(items, DATA)), _relative(book, COPY))
    root = _retarget(_part(items, "_rels/.rels"), book, copy)
    items = _replace(items, "_rels/.rels", root)
    items = _replace(items, "[Content_Types].xml",
                     _override(_part(items, "[Content_Types].xml"), copy, BOOK_TYPE))
    return make_zip(items + [(copy, dict(items)[book]), (_rels_name(copy), rels.encode())])


def cached_value_changed(data: bytes) -> bytes:
    """The result cached with the indicator's formula changed (78.18 -> 99.5)."""
    sheet, ref = INDICATOR
    return _edit_cell(data, sheet, lambda text: _cell_pattern(ref).sub(
        lambda m: _with_value(m[0], 99.5), text, count=1))


# number formats: what LibreOffice shows is not the number stored

def _styles_name(items: Parts) -> str:
    book = _workbook_part(items)
    (rel,) = [r for r in _relationships(_part(items, _rels_name(book)))
              if r["Type"].endswith("/styles")]
    return _resolve(book, rel["Target"])


_XF = re.compile(r"<xf\b[^>]*/>|<xf\b[^>]*>.*?</xf>", re.DOTALL)


def _cell_xfs(styles: str) -> tuple[re.Match[str], list[str]]:
    block = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", styles, re.DOTALL)
    return block, _XF.findall(block[1])


def _new_format(styles: str, code: str, xf_index: int) -> tuple[str, int]:
    """``styles`` with a number format ``code`` (id 200) and a new cellXfs entry: a copy of
    entry ``xf_index`` with that format. Returns the text and the new entry's index."""
    fmt = f'<numFmt numFmtId="200" formatCode="{html.escape(code)}"/>'
    if "<numFmts" in styles:
        styles = re.sub(r"(<numFmts\b[^>]*>)", r"\1" + fmt, styles, count=1)
    else:
        styles = re.sub(r"(<styleSheet\b[^>]*>)", r"\1<numFmts>" + fmt + "</numFmts>", styles)
    block, xfs = _cell_xfs(styles)
    xf = re.sub(r'numFmtId="\d+"', 'numFmtId="200"', xfs[xf_index], count=1)
    xf = re.sub(r'\sapplyNumberFormat="[^"]*"', "", xf).replace(
        "<xf ", '<xf applyNumberFormat="1" ', 1)
    styles = styles[:block.end(1)] + xf + styles[block.end(1):]
    return re.sub(r'(<cellXfs\b[^>]*count=")\d+', rf"\g<1>{len(xfs) + 1}", styles), len(xfs)


def _formatted(data: bytes, sheet: str, ref: str, code: str) -> bytes:
    """Cell ``ref`` of ``sheet`` given a new cellXfs entry with the number format ``code``."""
    items = parts(data)
    name, styles_name = sheet_part(items, sheet), _styles_name(items)
    cell = _cell(_part(items, name), ref)
    styles, index = _new_format(_part(items, styles_name), code, int(_style(cell)))
    text = _part(items, name).replace(cell, re.sub(r'\ss="\d+"', f' s="{index}"', cell), 1)
    return make_zip(_replace(_replace(items, styles_name, styles), name, text))


def format_literal(data: bytes) -> bytes:
    """The input shows «1200000» whatever it holds (format ``"1200000"``)."""
    return _formatted(data, DATA, INPUT, '"1200000"')


def format_text_section(data: bytes) -> bytes:
    """The telephone (a text) shows «999» (format ``0;;;"999"``)."""
    return _formatted(data, *PHONE, '0;;;"999"')


def _input_format_redefined(styles: str, code: str, input_xf: int) -> str:
    _, xfs = _cell_xfs(styles)
    fmt_id = re.search(r'numFmtId="(\d+)"', xfs[input_xf])[1]
    assert int(fmt_id) >= 164, "the input's format is a custom one"
    return re.sub(rf'<numFmt numFmtId="{fmt_id}" formatCode="[^"]*"/>',
                  f'<numFmt numFmtId="{fmt_id}" formatCode="{html.escape(code)}"/>', styles)


TEN_TIMES = '0"0"'  # 1250000 shows as 12500000


def format_redefined(data: bytes) -> bytes:
    """The number format the input cells share redefined: each shows ten times its value."""
    items = parts(data)
    xf = int(_style(_cell(_part(items, sheet_part(items, DATA)), INPUT)))
    name = _styles_name(items)
    return make_zip(_replace(items, name, _input_format_redefined(_part(items, name),
                                                                  TEN_TIMES, xf)))


def styles_repointed(data: bytes) -> bytes:
    """The styles relationship pointed at a copy in which the inputs' number format shows ten
    times the value; the part named styles.xml stays as issued."""
    items = parts(data)
    book, name = _workbook_part(items), _styles_name(items)
    xf = int(_style(_cell(_part(items, sheet_part(items, DATA)), INPUT)))
    copy = name.replace("styles", "styles2")
    rels = _retarget(_part(items, _rels_name(book)), _relative(book, name), _relative(book, copy))
    items = _replace(items, _rels_name(book), rels)
    items = _replace(items, "[Content_Types].xml",
                     _override(_part(items, "[Content_Types].xml"), copy, STYLES_TYPE))
    return make_zip(items + [(copy, _input_format_redefined(_part(items, name), TEN_TIMES,
                                                            xf).encode())])


#: case -> (edit, the cells whose display LibreOffice must show as in the plain file unless
#: the validator fails the file; None: only what LibreOffice reads is compared)
DISGUISED: dict[str, tuple[Variant, tuple[str, str] | None]] = {
    "dup-cell-after": (duplicate_input_after, None),
    "dup-cell-before": (duplicate_input_before, None),
    "dup-row": (duplicate_row, None),
    "dup-formula-cell": (duplicate_formula_cell, None),
    "dup-label-cell": (duplicate_label_cell, None),
    "zip-dup-entry": (zip_duplicate_entry, None),
    "zip-dup-case": (zip_case_variant, None),
    "orphan-sheet-copy": (unreferenced_copy, None),
    "sheet-repointed": (sheet_repointed, None),
    "sheets-swapped": (sheets_swapped, None),
    "sst-repointed": (shared_strings_repointed, None),
    "workbook-repointed": (workbook_repointed, None),
    "cached-value": (cached_value_changed, None),
    "format-literal": (format_literal, (DATA, INPUT)),
    "format-text-999": (format_text_section, PHONE),
    "format-redefined": (format_redefined, (DATA, INPUT)),
    "styles-repointed": (styles_repointed, (DATA, INPUT)),
}


# -- what LibreOffice shows ---------------------------------------------------------------------

ODS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
       "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}


def shown_in_ods(ods: Path, sheet: str, ref: str) -> str:
    """The text LibreOffice displays in a cell, from a spreadsheet it saved as .ods (each
    cell keeps its displayed text next to its value)."""
    row, col = int(re.search(r"\d+", ref).group()), _column(ref)
    with zipfile.ZipFile(ods) as archive:
        root = ET.parse(io.BytesIO(archive.read("content.xml"))).getroot()
    t = f"{{{ODS['table']}}}"
    (table,) = [x for x in root.iter(t + "table") if x.get(t + "name") == sheet]
    r = 0
    for table_row in table.iter(t + "table-row"):
        r += int(table_row.get(t + "number-rows-repeated", "1"))
        if r < row:
            continue
        c = 0
        for cell in table_row:
            c += int(cell.get(t + "number-columns-repeated", "1"))
            if c >= col:
                return "\n".join("".join(p.itertext()) for p in
                                 cell.iter(f"{{{ODS['text']}}}p"))
        return ""
    return ""
