"""Build the ``vbaProject.bin`` of a generated ``.xlsm`` ([MS-OVBA] inside [MS-CFB]).

    data = build_vba_project({"xlwings_udfs": source}, sheet_count=3)
    workbook.add_vba_project(io.BytesIO(data), is_stream=True)   # XlsxWriter

What the project holds, in this order:

- the document modules ``ThisWorkbook`` and ``Sheet1`` … ``Sheet<sheet_count>``: the code names
  XlsxWriter writes into the workbook once it has a VBA project (``workbook.set_vba_name()`` /
  ``worksheet.set_vba_name()`` with no argument give the same names; call them with other
  names and Excel will not pair the sheets with these modules);
- xlwings' standalone-mode ``xlwings`` module and ``Dictionary`` class module (see
  :data:`XLWINGS_MODULES`), as the installed xlwings ships them in
  ``xlwings/quickstart_standalone.xlsm`` (BSD-3-Clause; ``Dictionary`` is Tim Hall's
  VBA-Dictionary, MIT): nothing of them is copied into this repository;
- each given standard module.

The quickstart's own project is the starting point, so its project-level records stay as xlwings
ships them: the PROJECTINFORMATION and PROJECTREFERENCES records of the ``dir`` stream
(references to MSForms and Office 16.0, 64-bit SYSKIND, project name ``VBAProject``), and the
``ID``, protection and ``[Host Extender Info]`` lines of the ``PROJECT`` stream. Everything that
names modules is written again here:

- every module stream holds compressed source only ([MS-OVBA] 2.3.4.3: MODULEOFFSET 0, no
  PerformanceCache), its text in CRLF lines encoded in ``code_page``;
- the ``dir`` stream's PROJECTCODEPAGE record (2.3.4.2.1.5) is set to ``code_page`` and its
  PROJECTMODULES record (2.3.4.2.3) is written again, with PROJECTCOOKIE and every MODULECOOKIE
  0xFFFF as 2.3.4.2.3.1 and 2.3.4.2.3.2.7 require of a writer; the stream ends with its
  Terminator (2.3.4.2), as Excel's does;
- ``PROJECT`` (2.3.1): one ``Document=``/``Module=``/``Class=`` line per module right after
  ``ID=``, and a ``[Workspace]`` line per module; ``PROJECTwm`` (2.3.3) lists the same names;
- ``_VBA_PROJECT`` (2.3.4.1) is the seven bytes ``CC 61 FF FF 00 01 00``: Version 0xFFFF, no
  PerformanceCache, so Office ignores any compiled state and compiles from the source (1.6);
  there are no ``__SRP_*`` streams (2.2.6).

The MS-OVBA compression, the ``dir`` module records, ``PROJECTwm`` and the compound file itself
come from ``pyopenvba`` (MIT). Only a few small things are done here: PROJECTCODEPAGE is patched
in the dir prefix and the PROJECT stream's text is composed (both with the section numbers
above), the dir stream is cut after its Terminator (:func:`_ending_at_terminator`), and every
directory entry of the compound file is made black (:func:`_all_black`).

Code page: 1251 by default, what a Russian-locale Excel writes. VBA stores source as ANSI text
in the project's code page and the VBE shows it in the system's ANSI code page, so Cyrillic in
comments reads right on a Russian Windows and as mojibake elsewhere; keep code ASCII-only. The
xlwings modules are ASCII, so their bytes are the same in any code page.

The output depends only on the arguments and the installed xlwings: no time stamps, no random
ids (the compound file keeps the quickstart's directory-entry times; new entries get zero).
"""

from __future__ import annotations

import codecs
import importlib.resources
import re
import struct
import zipfile
from collections.abc import Mapping

from pyopenvba import vba as ovba
from pyopenvba.cfb import CFB

from cos_xl.errors import CosXlError

__all__ = [
    "DEFAULT_CODE_PAGE",
    "XLWINGS_MODULES",
    "VbaProjectError",
    "build_vba_project",
    "xlwings_template",
]

#: PROJECTCODEPAGE written by default: Windows-1251, as a Russian-locale Excel writes it.
DEFAULT_CODE_PAGE = 1251
#: The modules xlwings' standalone mode needs in the workbook, taken from the quickstart.
XLWINGS_MODULES = ("xlwings", "Dictionary")
#: The quickstart's sample module, left out.
_SAMPLE_MODULE = "Module1"
_TEMPLATE_PACKAGE = "xlwings"
_TEMPLATE_FILE = "quickstart_standalone.xlsm"
_TEMPLATE_PART = "xl/vbaProject.bin"
#: [MS-OVBA] 2.3.4.1 / 3.1.1: Reserved1 0x61CC, Version 0xFFFF, Reserved2 0x00, Reserved3 0x0001.
_VBA_PROJECT_STREAM = b"\xcc\x61\xff\xff\x00\x01\x00"
#: [MS-OVBA] 2.3.4.2.3.1 / 2.3.4.2.3.2.7: "MUST be 0xFFFF on write".
_COOKIE = 0xFFFF
#: A VBA identifier usable as a module name (the VBE allows at most 31 characters).
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,30}\Z")
_VB_NAME = re.compile(r'Attribute VB_Name = "([^"]*)"\Z')
#: PROJECT stream lines that declare a project item ([MS-OVBA] 2.3.1.3 ProjectItem).
_ITEM_KEYS = ("Document=", "Module=", "Class=", "BaseClass=", "Package=")


class VbaProjectError(CosXlError):
    """The VBA project cannot be built: bad module names or sources, or an unusable xlwings."""


def xlwings_template() -> bytes:
    """``xl/vbaProject.bin`` of the installed xlwings' ``quickstart_standalone.xlsm``."""
    try:
        resource = importlib.resources.files(_TEMPLATE_PACKAGE) / _TEMPLATE_FILE
        with resource.open("rb") as fh, zipfile.ZipFile(fh) as package:
            return package.read(_TEMPLATE_PART)
    except (ModuleNotFoundError, FileNotFoundError, KeyError, zipfile.BadZipFile) as exc:
        raise VbaProjectError(
            f"cannot read {_TEMPLATE_PART} from {_TEMPLATE_PACKAGE}/{_TEMPLATE_FILE}: {exc}"
            " (is xlwings installed?)"
        ) from exc


def build_vba_project(
    modules: Mapping[str, str],
    *,
    sheet_count: int,
    code_page: int = DEFAULT_CODE_PAGE,
    include_xlwings: bool = True,
) -> bytes:
    """A ``vbaProject.bin`` with ThisWorkbook, Sheet1..Sheet<sheet_count>, xlwings, Dictionary
    and ``modules`` (standard modules, name -> full source text).

    ``include_xlwings=False`` leaves the two xlwings modules out (the project is otherwise the
    same): for a workbook that does not route its UDFs through standalone xlwings, and for
    tests in LibreOffice, which cannot compile the xlwings modules (see the tests).

    Each source must start with the line ``Attribute VB_Name = "<name>"`` (as a ``.bas`` export
    does); that line is stored as given, and so is the rest of the text except that line ends
    become CRLF and a missing final line end is added. Names are VBA identifiers (ASCII letter,
    then letters, digits, ``_``; at most 31) and must not be one of the other modules' names
    (compared without case; ``xlwings`` and ``Dictionary`` even when left out) nor ``dir``.
    The source must be encodable in ``code_page``.

    Raises :class:`VbaProjectError` on a bad argument or when the installed xlwings' quickstart
    does not have the expected modules.
    """
    if isinstance(sheet_count, bool) or not isinstance(sheet_count, int) or sheet_count < 1:
        raise VbaProjectError(f"sheet_count must be a positive integer, not {sheet_count!r}")
    encoding = _encoding(code_page)
    documents = ["ThisWorkbook", *(f"Sheet{i}" for i in range(1, sheet_count + 1))]
    embedded = XLWINGS_MODULES if include_xlwings else ()
    # "dir" is a stream of the VBA storage beside the module streams ([MS-OVBA] 2.3.4.2)
    user = _checked_modules(modules, encoding, reserved=[*documents, *XLWINGS_MODULES, "dir"])

    cfb = CFB.from_bytes(xlwings_template())
    template = ovba.parse_vba_project(cfb)
    by_name = {m.name: m for m in template.modules}
    expected = {"ThisWorkbook", "Sheet1", *embedded}
    if not expected <= set(by_name) or any(m.name != m.stream_name for m in template.modules):
        raise VbaProjectError(
            f"{_TEMPLATE_PACKAGE}/{_TEMPLATE_FILE} has modules {sorted(by_name)};"
            f" expected at least {sorted(expected)}, each in a stream of its own name"
        )
    if template.dir_modules_offset < 0:
        raise VbaProjectError(f"{_TEMPLATE_PACKAGE}/{_TEMPLATE_FILE}: dir stream has no modules")

    # The module list, in the order it is declared: documents, xlwings, ours.
    sheet_source = by_name["Sheet1"].source  # its attribute header, no code
    final: list[ovba.VBAModule] = []
    for name in documents:
        module = by_name.get(name)
        if module is None:  # Sheet3 and on: Sheet1's header under another name
            module = ovba.VBAModule(name=name, stream_name=name, kind=ovba.VBAModuleKind.other)
            module.source = sheet_source.replace(
                'Attribute VB_Name = "Sheet1"', f'Attribute VB_Name = "{name}"', 1
            )
        final.append(module)
    final += [by_name[name] for name in embedded]
    for name, source in user.items():
        final.append(ovba.VBAModule(name=name, stream_name=name, source=source))
    declarations = [_declaration(m, documents) for m in final]

    # Module streams: compressed source only, in CRLF lines.
    keep = {m.name.casefold() for m in final} | {"dir", "_vba_project"}
    for stream in sorted(cfb.list_streams_in_storage("VBA")):
        if stream.casefold() not in keep:  # Module1, Sheet2 for one sheet, any __SRP_*
            cfb.remove_stream_in_storage("VBA", stream)  # (and xlwings' if left out)
    present = {s.casefold() for s in cfb.list_streams_in_storage("VBA")}
    for module in final:
        text = _crlf(module.source)
        data = ovba.compress(_encode(text, encoding, module.name))
        if module.name.casefold() in present:
            cfb.write_stream_in_storage("VBA", module.name, data)
        else:
            cfb.add_stream_to_storage("VBA", module.name, data)
        module.name_unicode = module.stream_name_unicode = module.name
        module.text_offset = 0
        module.cookie = _COOKIE
        module.prefix_bytes = b""

    # dir: the template's information + references records, our code page, our modules.
    project = ovba.VBAProject(modules=final, code_page=code_page, project_cookie=_COOKIE)
    prefix = _with_code_page(template.dir_raw[: template.dir_modules_offset], code_page)
    dir_raw = prefix + _ending_at_terminator(ovba.serialize_dir_modules_section(project))
    cfb.write_stream_in_storage("VBA", "dir", ovba.compress(dir_raw))
    cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", _VBA_PROJECT_STREAM)

    names = [m.name for m in final]
    cfb.write_stream("PROJECT", _project_stream(cfb.get_stream("PROJECT"), declarations, names))
    cfb.write_stream(
        "PROJECTwm", ovba.serialize_projectwm([(n, n) for n in names], code_page=code_page)
    )
    return _all_black(cfb.to_bytes())


# ---------------------------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------------------------
def _encoding(code_page: int) -> str:
    if isinstance(code_page, bool) or not isinstance(code_page, int):
        raise VbaProjectError(f"code_page must be an integer, not {code_page!r}")
    name = ovba.encoding_for_codepage(code_page)
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise VbaProjectError(f"code page {code_page} has no Python codec") from exc
    if "ABC".encode(name) != b"ABC":
        raise VbaProjectError(f"code page {code_page} is not ASCII-compatible")
    return name


def _checked_modules(
    modules: Mapping[str, str], encoding: str, *, reserved: list[str]
) -> dict[str, str]:
    taken = {name.casefold(): name for name in reserved}
    out: dict[str, str] = {}
    for name, source in modules.items():
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise VbaProjectError(
                f"module name {name!r} is not a VBA identifier"
                " (ASCII letter, then letters, digits or _, at most 31)"
            )
        if name.casefold() in ovba.VBE_REFUSED_MODULE_NAMES:
            raise VbaProjectError(f"module name {name!r} is refused by the VBA editor")
        if name.casefold() in taken:
            raise VbaProjectError(f"module name {name!r} is taken by {taken[name.casefold()]!r}")
        taken[name.casefold()] = name
        if not isinstance(source, str):
            raise VbaProjectError(f"module {name}: source must be a str")
        if "\x00" in source:
            raise VbaProjectError(f"module {name}: source contains a NUL character")
        text = _crlf(source)
        first = text.split("\r\n", 1)[0]
        found = _VB_NAME.match(first)
        if found is None or found.group(1) != name:
            raise VbaProjectError(
                f'module {name}: the source must start with the line Attribute VB_Name = "{name}"'
                f", not {first[:60]!r}"
            )
        _encode(text, encoding, name)
        out[name] = text
    return out


def _crlf(text: str) -> str:
    """CRLF line ends (VBA's), ending with one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return text if text.endswith("\r\n") else text + "\r\n"


def _encode(text: str, encoding: str, name: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise VbaProjectError(
            f"module {name}: {text[exc.start:exc.end]!r} cannot be written in {encoding}"
        ) from exc


def _declaration(module: ovba.VBAModule, documents: list[str]) -> str:
    """The PROJECT stream line of a module ([MS-OVBA] 2.3.1.4-2.3.1.7)."""
    if module.name in documents:
        return f"Document={module.name}/&H00000000"
    if module.kind == ovba.VBAModuleKind.standard:
        return f"Module={module.name}"
    return f"Class={module.name}"


# ---------------------------------------------------------------------------------------------
# the two pieces of MS-OVBA / MS-CFB written here
# ---------------------------------------------------------------------------------------------
def _with_code_page(prefix: bytes, code_page: int) -> bytes:
    """The dir stream's PROJECTINFORMATION with PROJECTCODEPAGE set ([MS-OVBA] 2.3.4.2.1).

    The records before it (2.3.4.2.1.1-2.3.4.2.1.4: SYSKIND 0x0001, optional COMPATVERSION
    0x004A, LCID 0x0002, LCIDINVOKE 0x0014) are plain Id(u16) Size(u32) Data records, so they
    are skipped by their Size; PROJECTCODEPAGE (2.3.4.2.1.5) is Id 0x0003, Size 2, CodePage u16.
    """
    pos = 0
    while pos + 6 <= len(prefix):
        record_id, size = struct.unpack_from("<HI", prefix, pos)
        if record_id == 0x0003:
            if size != 2:
                break
            return prefix[: pos + 6] + struct.pack("<H", code_page) + prefix[pos + 8 :]
        if record_id not in (0x0001, 0x004A, 0x0002, 0x0014):
            break
        pos += 6 + size
    raise VbaProjectError("the template's dir stream has no PROJECTCODEPAGE record where expected")


def _ending_at_terminator(section: bytes) -> bytes:
    """The dir stream's module records up to and including its Terminator ([MS-OVBA] 2.3.4.2:
    Id 0x0010 and Reserved, a u32 0 — six bytes, nothing after them).

    pyopenvba 6.5 writes the Terminator as a record of Size 0 and then four more zero bytes;
    they are cut here. The module section (2.3.4.2.3) is plain Id(u16) Size(u32) Data records,
    so the Terminator is found by walking them.
    """
    pos = 0
    while pos + 6 <= len(section):
        record_id, size = struct.unpack_from("<HI", section, pos)
        if record_id == 0x0010:
            return section[: pos + 6]
        pos += 6 + size
    raise VbaProjectError("pyopenvba wrote the dir stream's modules without a terminator")


def _project_stream(raw: bytes, declarations: list[str], names: list[str]) -> bytes:
    """The PROJECT stream ([MS-OVBA] 2.3.1) with our modules.

    ``ProjectId`` comes first, then one ``ProjectItem`` per module (2.3.1.3), then the
    template's remaining properties (Name, HelpContextID, VersionCompatible32, CMG, DPB, GC) and
    its ``[Host Extender Info]`` section (2.3.1.18) as they are; the optional ``[Workspace]``
    section (2.3.1.19) is written again with Excel's default window state for each module. The
    text is ASCII here (module names are ASCII), so its code page does not matter.
    """
    text = raw.decode("ascii")
    head, sep, rest = text.partition("\r\n\r\n[Host Extender Info]\r\n")
    if not sep:
        raise VbaProjectError("the template's PROJECT stream has no [Host Extender Info]")
    lines = head.split("\r\n")
    if not lines[0].startswith("ID="):
        raise VbaProjectError("the template's PROJECT stream does not start with ID=")
    properties = [line for line in lines[1:] if not line.startswith(_ITEM_KEYS)]
    host = rest.split("\r\n\r\n[Workspace]", 1)[0].rstrip("\r\n")
    out = [lines[0], *declarations, *properties, "", "[Host Extender Info]", host, "",
           "[Workspace]", *(f"{name}=0, 0, 0, 0, C" for name in names)]
    return ("\r\n".join(out) + "\r\n").encode("ascii")


def _all_black(data: bytes) -> bytes:
    """Colour every directory entry of a compound file black ([MS-CFB] 2.6.1 Color Flag).

    The directory's sibling trees must keep the red-black rule that no red entry has a red
    child (2.6.4); pyopenvba rebuilds a storage's tree balanced when it adds or removes a stream
    but keeps the old colours (new entries red), which need not hold. All-black satisfies it
    whatever the shape. The directory sectors are found from the header (2.2: sector shift at
    offset 30, first directory sector at 48, the first 109 FAT sector numbers at 76) and the
    FAT chain (2.3); a file with DIFAT sectors (> 109 FAT sectors, ~7 MB) is not expected here.
    """
    buf = bytearray(data)
    sector = 1 << struct.unpack_from("<H", buf, 30)[0]
    n_fat, first_dir = struct.unpack_from("<II", buf, 44)
    if n_fat > 109:
        raise VbaProjectError("vbaProject.bin is too large (needs DIFAT sectors)")
    fat_sectors = struct.unpack_from(f"<{n_fat}I", buf, 76)
    fat: list[int] = []
    for s in fat_sectors:
        fat += struct.unpack_from(f"<{sector // 4}I", buf, (s + 1) * sector)
    current, seen = first_dir, set()
    while current < 0xFFFFFFFA and current not in seen:  # up to ENDOFCHAIN (2.1)
        seen.add(current)
        base = (current + 1) * sector
        for entry in range(base, base + sector, 128):
            if buf[entry + 66] != 0:  # Object Type: not an unused entry
                buf[entry + 67] = 0x01  # black
        current = fat[current]
    return bytes(buf)
