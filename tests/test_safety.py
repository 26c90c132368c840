"""The safety layer of the validator on a corpus of hostile and broken files, most of them built
from a real generated template: each gives its stable code, is rejected within 2 s, and no input
bytes make ``inspect_file`` raise. The real templates (as generated and as saved by LibreOffice)
pass with no finding at all."""

from __future__ import annotations

import functools
import io
import os
import random
import re
import struct
import tempfile
import time
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest
from helpers import write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyopenvba.cfb import CFB

from cos_xl.validate import SAFETY_CODES, SafetyLimits, SafetyReport, inspect_file
from cos_xl.validate.safety import MiB

SECONDS = 2.0
KINDS = {"xlsx", "xlsm", "encrypted", "xls", "ods", "csv", "html", "empty", "unknown",
         "zip-other"}
CT_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET = "xl/worksheets/sheet1.xml"
DEFAULT = SafetyLimits()


@functools.cache
def real_templates() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        xlsm, _ = write(Path(folder), "cos_2020Q3_77.xlsm", macros=True)
        xlsx, _ = write(Path(folder), "cos_2020Q3_77.xlsx", macros=False)
        return {"xlsm": xlsm.read_bytes(), "xlsx": xlsx.read_bytes()}


@pytest.fixture(scope="module")
def templates() -> dict[str, bytes]:
    return real_templates()


# ---------------------------------------------------------------------------------------------
# building archives

def parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def make_zip(items, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is what some cases want
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in items:
                archive.writestr(name, data)
    return buffer.getvalue()


def changed(template: bytes, replace=None, add=(), drop=(), compression=zipfile.ZIP_DEFLATED):
    """The template re-zipped with parts replaced, added or dropped."""
    replace = replace or {}
    items = [(name, replace.get(name, data)) for name, data in parts(template)
             if name not in drop]
    return make_zip(items + list(add), compression)


def cd_records(data: bytes) -> list[tuple[int, str]]:
    """(offset of the central directory record, name) for each entry."""
    eocd = data.rindex(b"PK\x05\x06")
    count, _size, offset = struct.unpack_from("<HLL", data, eocd + 10)
    records, pos = [], offset
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        records.append((pos, data[pos + 46:pos + 46 + name_len].decode()))
        pos += 46 + name_len + extra_len + comment_len
    return records


def cd_record(data: bytes, name: str) -> int:
    return next(pos for pos, entry in cd_records(data) if entry == name)


def patched(data: bytes, name: str, cd_field: int, local_field: int, fmt: str, value) -> bytes:
    """Set one field of an entry in both its central directory record and its local header."""
    out = bytearray(data)
    record = cd_record(data, name)
    local = struct.unpack_from("<L", data, record + 42)[0]
    if fmt == "flag":  # OR into the general purpose flags
        for pos in (record + 8, local + 6):
            struct.pack_into("<H", out, pos, struct.unpack_from("<H", out, pos)[0] | value)
    else:
        struct.pack_into(fmt, out, record + cd_field, value)
        struct.pack_into(fmt, out, local + local_field, value)
    return bytes(out)


def xml_with_padding(size: int) -> bytes:
    """A sheet whose body is ``size`` bytes of blanks: compresses about 1000:1."""
    head = (CT_XML + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main"><sheetData>').encode()
    return head + b" " * size + b"</sheetData></worksheet>"


# ---------------------------------------------------------------------------------------------
# the corpus: name -> (builder(templates) -> (file name, bytes), expected code, limits)

CORPUS: dict[str, tuple] = {}


def hostile(code: str, limits: SafetyLimits = DEFAULT):
    def register(builder):
        CORPUS[builder.__name__] = (builder, code, limits)
        return builder
    return register


@hostile("zip-bomb")
def bomb_ratio(t):
    return "bomb.xlsm", changed(t["xlsm"], {SHEET: xml_with_padding(50 * MiB)})


@hostile("zip-uncompressed-too-large")
def bomb_total(t):
    big = b"\x00" * (150 * MiB)
    return ("bomb-total.xlsm", changed(t["xlsm"], add=[("xl/media/image1.png", big)]))


@hostile("zip-size-mismatch")
def bomb_lying_header(t):
    data = changed(t["xlsm"], {SHEET: xml_with_padding(50 * MiB)})
    # both headers now claim 6 KB unpacked, as the template's own sheet does
    return ("lying.xlsm", patched(data, SHEET, 24, 22, "<L", 6000))


@hostile("zip-uncompressed-too-large", SafetyLimits(max_total_uncompressed=100_000))
def template_total_over_small_limit(t):
    return "small-limit.xlsm", t["xlsm"]


@hostile("xml-too-large")
def xml_too_large(t):
    rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i * 7919 % 100003}</v></c></row>'
                   for i in range(1, 260_000))
    sheet = (CT_XML + f"<worksheet><sheetData>{rows}</sheetData></worksheet>").encode()
    assert len(sheet) > 10 * MiB
    return "huge-sheet.xlsm", changed(t["xlsm"], {SHEET: sheet})


BILLION_LAUGHS = CT_XML + """<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
"""


@hostile("xml-doctype")
def billion_laughs(t):
    workbook = dict(parts(t["xlsm"]))["xl/workbook.xml"].decode()
    body = workbook.split("?>", 1)[1].replace("<sheets>", "<sheets>&lol9;", 1)
    evil = (BILLION_LAUGHS + body).encode()
    return "laughs.xlsm", changed(t["xlsm"], {"xl/workbook.xml": evil})


@hostile("xml-doctype")
def external_entity(t):
    sheet = dict(parts(t["xlsm"]))[SHEET].decode().split("?>", 1)[1]
    xxe = (CT_XML + '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           + sheet.replace("<sheetData>", "<sheetData>&x;", 1))
    return "xxe.xlsm", changed(t["xlsm"], {SHEET: xxe.encode()})


@hostile("xml-doctype")
def doctype_in_rels(t):
    rels = dict(parts(t["xlsm"]))["_rels/.rels"].decode().split("?>", 1)[1]
    evil = CT_XML + '<!doctype r [<!entity e SYSTEM "http://evil.example/x">]>' + rels
    return "rels.xlsm", changed(t["xlsm"], {"_rels/.rels": evil.encode()})


@hostile("xml-not-utf8")
def utf16_workbook(t):
    workbook = dict(parts(t["xlsm"]))["xl/workbook.xml"].decode().split("?>", 1)[1]
    text = ('<?xml version="1.0" encoding="UTF-16"?>'
            '<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + workbook)
    return ("utf16.xlsm", changed(t["xlsm"], {"xl/workbook.xml": text.encode("utf-16")}))


@hostile("xml-not-utf8")
def utf7_declaration(t):
    """UTF-7 hides "<!DOCTYPE" from a byte scan as "+ADwAIQ-DOCTYPE"; the declaration is padded
    past any short look-ahead."""
    workbook = dict(parts(t["xlsm"]))["xl/workbook.xml"].decode().split("?>", 1)[1]
    text = '<?xml version="1.0"' + " " * 500 + 'encoding="UTF-7"?>+ADwAIQ-DOCTYPE w' + workbook
    return "utf7.xlsm", changed(t["xlsm"], {"xl/workbook.xml": text.encode()})


@hostile("xml-doctype")
def doctype_across_pieces(t):
    """The declaration straddles the 1 MiB pieces the scan reads, in mixed case."""
    filler = " ".join(str(i * 7919 % 100003) for i in range(MiB // 4)).encode()
    sheet = b"<x>" + filler[:MiB - 3 - 4] + b"<!DocType x SYSTEM 'file:///etc/passwd'><x/>"
    return "split.xlsm", changed(t["xlsm"], {SHEET: sheet})


@hostile("file-encrypted")
def encrypted_ooxml(t):
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(t["xlsm"])).encrypt("пароль", out)
    return "cos_2020Q3_77.xlsm", out.getvalue()


def _cfb_with(t, stream: str) -> bytes:
    vba = dict(parts(t["xlsm"]))["xl/vbaProject.bin"]
    cfb = CFB.from_bytes(vba)
    cfb.add_stream_at([], stream, b"\x09\x08\x10\x00\x00\x06\x05\x00" + b"\x00" * 5000)
    return cfb.to_bytes()


@hostile("file-legacy-xls")
def legacy_xls(t):
    return "cos_2020Q3_77.xls", _cfb_with(t, "Workbook")


@hostile("file-legacy-xls")
def legacy_xls_renamed(t):
    return "cos_2020Q3_77.xlsm", _cfb_with(t, "Workbook")


@hostile("file-not-zip")
def word_doc_renamed(t):
    return "cos_2020Q3_77.xlsx", _cfb_with(t, "WordDocument")


@hostile("file-not-zip")
def ole_truncated(t):
    return "cos.xlsx", _cfb_with(t, "Workbook")[:700]


@hostile("file-ods")
def ods_renamed(t):
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="application/vnd.oasis.'
                'opendocument.spreadsheet"/></manifest:manifest>')
    content = ('<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
               '"urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return "cos_2020Q3_77.xlsx", buffer.getvalue()


@hostile("ooxml-parts-missing")
def docx_renamed(t):
    data = make_zip([("[Content_Types].xml", CT_XML + "<Types/>"), ("_rels/.rels", "<r/>"),
                     ("word/document.xml", CT_XML + "<w:document/>")])
    return "cos_2020Q3_77.xlsx", data


@hostile("file-csv")
def csv_renamed(t):
    text = "Показатель;Значение\r\nОбучающихся;1234\r\nПедагогов;95000\r\n"
    return "cos_2020Q3_77.xlsx", text.encode("cp1251")


@hostile("file-html")
def html_renamed(t):
    page = ('<html xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-'
            'microsoft-com:office:excel"><head><meta http-equiv=Content-Type content="text/html;'
            ' charset=windows-1251"></head><body><table><tr><td>Обучающихся</td><td>1234</td>'
            '</tr></table></body></html>')
    return "cos_2020Q3_77.xls", page.encode("cp1251")


@hostile("file-not-zip")
def spreadsheetml_2003(t):
    text = ('<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook xmlns='
            '"urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Данные"/>'
            '</Workbook>')
    return "cos_2020Q3_77.xlsx", text.encode()


@hostile("file-empty")
def empty(t):
    return "cos_2020Q3_77.xlsm", b""


@hostile("zip-corrupt")
def truncated_half(t):
    return "cos_2020Q3_77.xlsm", t["xlsm"][:len(t["xlsm"]) // 2]


@hostile("zip-corrupt")
def central_directory_cut(t):
    data = t["xlsm"]
    offset = struct.unpack_from("<L", data, data.rindex(b"PK\x05\x06") + 16)[0]
    return "cos_2020Q3_77.xlsm", data[:offset]


@hostile("file-not-zip")
def garbage(t):
    return "cos_2020Q3_77.xlsm", random.Random(7).randbytes(50_000)


@hostile("file-not-zip")
def png_renamed(t):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 1, 1)
           + b"\x08\x02\x00\x00\x00" + random.Random(1).randbytes(200))
    return "cos_2020Q3_77.xlsx", png


@hostile("zip-path-traversal")
def traversal_dotdot(t):
    return ("slip.xlsm", changed(t["xlsm"], add=[("../../evil.sh", b"echo pwned")]))


@hostile("zip-path-traversal")
def traversal_absolute(t):
    return ("abs.xlsm", changed(t["xlsm"], add=[("/etc/cron.d/evil", b"* * * * * root x")]))


@hostile("zip-path-traversal")
def traversal_windows(t):
    return ("win.xlsm", changed(t["xlsm"], add=[("C:\\Windows\\evil.txt", b"x")]))


@hostile("zip-path-traversal")
def nul_in_name(t):
    """"xl/workbook.xml<NUL>.txt": readers that stop at the NUL see another part's name."""
    data = changed(t["xlsm"], add=[("xl/workbook.xmlX.txt", b"<x/>")])
    return "nul.xlsm", data.replace(b"xl/workbook.xmlX.txt", b"xl/workbook.xml\x00.txt")


@hostile("zip-duplicate-entry")
def duplicate_entry(t):
    evil = dict(parts(t["xlsm"]))["xl/workbook.xml"].replace(b"<sheets>", b"<sheets><!---->")
    return ("dup.xlsm", changed(t["xlsm"], add=[("xl/workbook.xml", evil)]))


@hostile("zip-duplicate-entry")
def duplicate_other_case(t):
    sheet = dict(parts(t["xlsm"]))[SHEET]
    return ("dupcase.xlsm", changed(t["xlsm"], add=[("XL/Worksheets/Sheet1.xml", sheet)]))


@hostile("zip-encrypted-entry")
def encrypted_entry(t):
    return "enc.xlsm", patched(t["xlsm"], SHEET, 0, 0, "flag", 0x1)


@hostile("zip-unsupported-compression")
def unsupported_compression(t):
    return ("bz2.xlsm", changed(t["xlsm"], compression=zipfile.ZIP_BZIP2))


@hostile("zip-too-many-entries")
def too_many_entries(t):
    extra = [(f"xl/media/image{i}.png", b"x") for i in range(300)]
    return "many.xlsm", changed(t["xlsm"], add=extra)


@hostile("zip-too-many-entries")
def huge_central_directory(t):
    extra = [(f"customXml/item{i}.bin", b"") for i in range(20_000)]
    return "cd.xlsm", changed(t["xlsm"], add=extra)


@hostile("zip-nested-archive")
def nested_zip(t):
    return ("nested.xlsm", changed(t["xlsm"], add=[("xl/media/image1.png", t["xlsm"])]))


@hostile("zip-nested-archive")
def nested_zip_by_name(t):
    return ("nested2.xlsm", changed(t["xlsm"], add=[("xl/embeddings/data.7z", b"7z")]))


@hostile("zip-executable")
def executable_inside(t):
    exe = b"MZ\x90\x00" + random.Random(3).randbytes(4000)
    return ("exe.xlsm", changed(t["xlsm"], add=[("xl/media/image2.emf", exe)]))


@hostile("ooxml-parts-missing")
def missing_workbook(t):
    return ("noworkbook.xlsm", changed(t["xlsm"], drop={"xl/workbook.xml"}))


@hostile("ooxml-parts-missing")
def missing_rels(t):
    return ("norels.xlsm", changed(t["xlsm"], drop={"xl/_rels/workbook.xml.rels"}))


@hostile("zip-corrupt")
def crc_mismatch(t):
    data = bytearray(changed(t["xlsm"], compression=zipfile.ZIP_STORED))
    pos = data.index(b"<sheetData>")  # a stored part: change one character of its text
    data[pos + 1] = ord("S")
    return "crc.xlsm", bytes(data)


@hostile("zip-corrupt")
def local_name_differs(t):
    data = bytearray(t["xlsm"])
    record = cd_record(t["xlsm"], SHEET)
    local = struct.unpack_from("<L", data, record + 42)[0]
    data[local + 30 + len(SHEET) - 5] = ord("9")  # sheet1.xml -> sheet9.xml in the local header
    return "local.xlsm", bytes(data)


@hostile("zip-overlapping-entries")
def overlapping_entries(t):
    """A second central record for the same local entry: the 'overlapping files' bomb."""
    data = t["xlsm"]
    eocd = data.rindex(b"PK\x05\x06")
    record = cd_record(data, SHEET)
    name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, record + 28)
    copy = data[record:record + 46 + name_len + extra_len + comment_len]
    count, size = struct.unpack_from("<HL", data, eocd + 10)
    end = bytearray(data[eocd:])
    struct.pack_into("<HHL", end, 8, count + 1, count + 1, size + len(copy))
    return "overlap.xlsm", data[:eocd] + copy + bytes(end)


@hostile("file-too-large")
def too_large_sparse(t):
    return "huge.xlsm", None  # made sparse by the test itself


def timed(path: Path, limits: SafetyLimits = DEFAULT) -> tuple[SafetyReport, float]:
    start = time.perf_counter()
    report = inspect_file(path, limits)
    return report, time.perf_counter() - start


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hostile_file_is_rejected_with_its_code(templates, tmp_path, case):
    builder, code, limits = CORPUS[case]
    name, data = builder(templates)
    path = tmp_path / name
    if data is None:  # 2 GiB of a real template followed by a hole: the disk keeps ~60 KB
        path.write_bytes(templates["xlsm"])
        os.truncate(path, 2 * 1024 * MiB)
    else:
        path.write_bytes(data)
    report, seconds = timed(path, limits)
    assert code in report.codes, report.findings
    assert "zip-hidden-data" not in report.codes  # no spurious warning beside the error
    assert not report.ok
    assert seconds < SECONDS, f"{case}: {seconds:.2f} s"
    assert report.kind in KINDS
    for finding in report.findings:
        severity, _title = SAFETY_CODES[finding.code]
        assert finding.severity == severity
        assert re.search("[А-Яа-я]", finding.message)


def test_corpus_is_large_and_covers_every_error_code():
    assert len(CORPUS) >= 25
    errors = {code for code, (severity, _) in SAFETY_CODES.items() if severity == "error"}
    assert errors - {code for _builder, code, _limits in CORPUS.values()} == {"file-unreadable"}


@pytest.mark.parametrize(("case", "kind"), [
    ("encrypted_ooxml", "encrypted"), ("legacy_xls_renamed", "xls"), ("ods_renamed", "ods"),
    ("csv_renamed", "csv"), ("html_renamed", "html"), ("empty", "empty"),
    ("png_renamed", "unknown"), ("docx_renamed", "zip-other"), ("billion_laughs", "xlsm")])
def test_kind_is_told_by_content(templates, tmp_path, case, kind):
    name, data = CORPUS[case][0](templates)
    path = tmp_path / name
    path.write_bytes(data)
    assert inspect_file(path).kind == kind


@pytest.mark.parametrize("case", ["ods_renamed", "csv_renamed", "legacy_xls_renamed"])
def test_renamed_other_format_also_reports_the_mismatch(templates, tmp_path, case):
    name, data = CORPUS[case][0](templates)
    path = tmp_path / name
    path.write_bytes(data)
    assert "file-extension-mismatch" in inspect_file(path).codes


def test_bombs_are_judged_in_little_memory(templates, tmp_path):
    for case in ("bomb_ratio", "bomb_lying_header"):
        name, data = CORPUS[case][0](templates)
        path = tmp_path / name
        path.write_bytes(data)
        del data
        tracemalloc.start()
        try:
            inspect_file(path)
            _current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 8 * MiB, f"{case}: {peak / MiB:.1f} MiB"


@pytest.mark.parametrize("variant", ["xlsm", "xlsx"])
def test_real_template_passes_with_no_finding(templates, tmp_path, variant):
    path = tmp_path / f"cos_2020Q3_77.{variant}"
    path.write_bytes(templates[variant])
    inspect_file(path)
    report, seconds = timed(path)
    assert report.kind == variant and report.ok and report.findings == []
    assert seconds < 0.1


def test_real_template_compression_ratios_are_far_below_the_limit(templates):
    for data in templates.values():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                assert info.file_size <= 20 * info.compress_size  # measured: 8.6:1 at most
                assert info.file_size < SafetyLimits().max_xml_part_size / 100


@pytest.mark.parametrize(("variant", "name"), [("xlsm", "cos.xlsx"), ("xlsx", "cos.xlsm"),
                                               ("xlsm", "cos.zip")])
def test_renamed_workbook_is_a_warning_only(templates, tmp_path, variant, name):
    path = tmp_path / name
    path.write_bytes(templates[variant])
    report = inspect_file(path)
    assert report.kind == variant and report.ok
    assert report.codes == ["file-extension-mismatch"]


def test_data_after_the_archive_is_a_warning(templates, tmp_path):
    path = tmp_path / "tail.xlsm"
    path.write_bytes(templates["xlsm"] + b"\x00" * 100)
    report = inspect_file(path)
    assert report.ok and report.codes == ["zip-hidden-data"]


def test_unreadable_paths_are_findings(tmp_path):
    fifo = tmp_path / "fifo.xlsm"
    os.mkfifo(fifo)  # would block a naive open()
    for path in (tmp_path / "missing.xlsm", tmp_path, fifo):
        report = inspect_file(path)
        assert report.codes == ["file-unreadable"] and not report.ok


def test_codes_are_stable_kebab_case_with_russian_titles():
    for code, (severity, title) in SAFETY_CODES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", code)
        assert severity in ("error", "warning", "info")
        assert re.search("[А-Яа-я]", title)


@pytest.mark.libreoffice
@pytest.mark.parametrize("variant", ["xlsm", "xlsx"])
def test_template_saved_by_libreoffice_passes(office, tmp_path, variant):
    from test_libreoffice_template import FILLED

    from cos_xl.spec import load_form
    form = load_form()
    path, _ = write(tmp_path, f"cos_2020Q3_77.{variant}", macros=variant == "xlsm")
    saved = tmp_path / f"returned.{variant}"
    office.process(path, set_values={form.excel_name(k): v for k, v in FILLED.items()},
                   save_as=saved)
    report = inspect_file(saved)
    assert report.kind == variant and report.ok and report.findings == [], report.findings


# ---------------------------------------------------------------------------------------------
# no input bytes make inspect_file raise

@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def judged(scratch: Path, name: str, data: bytes) -> SafetyReport:
    path = scratch / name
    path.write_bytes(data)
    report, seconds = timed(path)
    assert isinstance(report, SafetyReport) and report.kind in KINDS
    assert all(f.code in SAFETY_CODES for f in report.findings)
    assert seconds < SECONDS
    return report


FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=4096), prefix=st.sampled_from(
    [b"", b"PK\x03\x04", b"PK\x05\x06", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"<html>",
     b"\xef\xbb\xbf"]))
def test_random_bytes_never_raise(scratch, data, prefix):
    judged(scratch, "random.xlsm", prefix + data)


@FUZZ
@given(st.data())
def test_mutated_template_never_raises(scratch, data):
    original = real_templates()[data.draw(st.sampled_from(["xlsm", "xlsx"]))]
    blob = bytearray(original)
    # about half of the edits hit the central directory and the end record (the last 2500
    # bytes), where parsers trust the bytes most; the rest land anywhere
    for _ in range(data.draw(st.integers(1, 12))):
        tail = max(0, len(blob) - 2500)
        where = data.draw(st.one_of(st.integers(0, len(blob) - 1),
                                    st.integers(tail, len(blob) - 1)))
        action = data.draw(st.sampled_from(["set", "insert", "delete", "cut"]))
        if action == "set":
            blob[where] = data.draw(st.integers(0, 255))
        elif action == "insert":
            blob[where:where] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del blob[where:where + data.draw(st.integers(1, 64))]
        elif data.draw(st.booleans()):
            del blob[where:]
        if not blob:
            break
    judged(scratch, "mutated.xlsm", bytes(blob))


@FUZZ
@given(st.lists(st.tuples(st.text(min_size=1, max_size=40), st.binary(max_size=200)),
                max_size=6), st.booleans())
def test_archives_with_random_names_never_raise(scratch, items, macros):
    base = [("[Content_Types].xml", CT_XML + "<Types/>"), ("xl/workbook.xml", CT_XML + "<w/>")]
    try:
        data = make_zip(base + items)
    except (ValueError, IndexError):  # names zipfile itself cannot write (empty after a NUL)
        return
    judged(scratch, "names.xlsm", data)


def test_deflate_bomb_inflates_in_bounded_pieces():
    """The inflater never hands out more than 1 MiB at a time, whatever the ratio."""
    from cos_xl.validate.safety import _inflate
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = packer.compress(b"\x00" * (64 * MiB)) + packer.flush()
    pieces = list(_inflate(io.BytesIO(raw), 0, len(raw), zipfile.ZIP_DEFLATED, 3 * MiB))
    assert max(map(len, pieces)) <= MiB
    assert sum(map(len, pieces)) <= 4 * MiB


def test_embedded_ole_object_is_a_warning(templates, tmp_path):
    path = tmp_path / "embedded.xlsm"
    path.write_bytes(changed(templates["xlsm"], add=[("xl/embeddings/oleObject1.bin",
                                                      b"\xd0\xcf\x11\xe0" + bytes(508))]))
    report = inspect_file(path)
    assert "ooxml-embedded-object" in report.codes
    assert SAFETY_CODES["ooxml-embedded-object"][0] == "warning"
    assert "ooxml-embedded-object" not in inspect_file(_template_file(templates, tmp_path)).codes


def _template_file(templates, tmp_path):
    path = tmp_path / "plain.xlsm"
    path.write_bytes(templates["xlsm"])
    return path
