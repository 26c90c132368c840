"""The workbook part: its sheets (name, state, relationship id, in order), its defined names
and its structure protection."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cos_xl.validate.ooxml.xml import children, main_namespace, parse, relationship_id


@dataclass(frozen=True)
class SheetRef:
    name: str
    state: str  # "visible", "hidden", "veryHidden"
    rid: str


@dataclass(frozen=True)
class Workbook:
    sheets: tuple[SheetRef, ...]
    #: (name, normalised reference); a local name as "Sheet!name"
    names: tuple[tuple[str, str], ...]
    #: attributes of <workbookProtection>; None when absent
    protection: tuple[tuple[str, str], ...] | None


def workbook(name: str, data: bytes) -> Workbook:
    root = parse(name, data)
    ns = main_namespace(root, name, "workbook")
    sheets_elem = next(children(root, ns + "sheets"), None)
    if sheets_elem is None:
        raise ValueError(f"{name}: no <sheets>")
    sheets: list[SheetRef] = []
    seen: set[str] = set()
    for sh in children(sheets_elem, ns + "sheet"):
        sheet_name, rid = sh.get("name"), relationship_id(sh)
        if not sheet_name:
            raise ValueError(f"{name}: a <sheet> without a name")
        if sheet_name.lower() in seen:
            raise ValueError(f"{name}: sheet name {sheet_name!r} appears twice")
        seen.add(sheet_name.lower())
        if not rid:
            raise ValueError(f"{name}: sheet {sheet_name!r} has no r:id")
        sheets.append(SheetRef(sheet_name, sh.get("state") or "visible", rid))

    names: dict[str, str] = {}
    folded: set[str] = set()
    for parent in children(root, ns + "definedNames"):
        for dn in children(parent, ns + "definedName"):
            dn_name = dn.get("name")
            if not dn_name:
                raise ValueError(f"{name}: a definedName without a name")
            local_id = dn.get("localSheetId")
            if local_id is not None:
                try:
                    key = f"{sheets[int(local_id)].name}!{dn_name}"
                except (ValueError, IndexError):
                    raise ValueError(
                        f"{name}: defined name {dn_name!r} has localSheetId {local_id!r}, but "
                        f"there are {len(sheets)} sheets") from None
            else:
                key = dn_name
            if key.lower() in folded:
                raise ValueError(f"{name}: defined name {key!r} appears twice")
            folded.add(key.lower())
            names[key] = normalise_reference((dn.text or "").strip())

    prot = next(children(root, ns + "workbookProtection"), None)
    protection = tuple(sorted(prot.attrib.items())) if prot is not None else None
    return Workbook(tuple(sheets), tuple(names.items()), protection)


_SIMPLE_QUOTED_REF = re.compile(r"'((?:[^']|'')+)'(![^'\"]*)")


def normalise_reference(text: str) -> str:
    """``'Данные'!$D$7`` -> ``Данные!$D$7`` (``''`` -> ``'``); string literals stay as they are."""
    if "'" not in text:
        return text
    m = _SIMPLE_QUOTED_REF.fullmatch(text)
    if m:
        return m.group(1).replace("''", "'") + m.group(2)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':  # a string literal, "" inside it is an escaped quote
            j = i + 1
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == "'":
            j, name = i + 1, []
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        name.append("'")
                        j += 2
                        continue
                    break
                name.append(text[j])
                j += 1
            if j + 1 < n and text[j] == "'" and text[j + 1] == "!":
                out.append("".join(name))
            else:
                out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)
