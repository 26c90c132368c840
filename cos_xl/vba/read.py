"""Read the VBA modules of a project or a workbook as ``olevba`` (oletools) extracts them.

oletools is an independent reader (it shares no code with the writer, pyopenvba), which is why
the tests and the validator read with it. It is imported when first used.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ModuleRecord", "ProjectDir", "decompressed", "read_dir",
           "read_vba_module_sources", "read_vba_modules"]


@dataclass(frozen=True)
class ModuleRecord:
    """A module as the ``VBA/dir`` stream declares it ([MS-OVBA] 2.3.4.2.3.2)."""

    name: str
    stream: str
    #: MODULEOFFSET: where the compressed source starts in the stream; the bytes before it are
    #: the module's PerformanceCache (compiled p-code), none when 0.
    offset: int


@dataclass(frozen=True)
class ProjectDir:
    """What a ``VBA/dir`` stream says about a project's platform, text and modules."""

    #: PROJECTSYSKIND (0 Win16, 1 Win32, 2 Mac, 3 Win64); None when absent
    sys_kind: int | None
    #: PROJECTCODEPAGE of the module sources; None when absent
    code_page: int | None
    modules: tuple[ModuleRecord, ...]


def read_vba_modules(data: bytes | str | os.PathLike[str]) -> dict[str, str]:
    """``{module name: source}`` of a ``vbaProject.bin`` (bytes, or a path) or of a workbook
    that holds one (``.xlsm``/``.xls``, by path, or its bytes).

    The source is olevba's ``vba_code`` unchanged: decoded with the project's PROJECTCODEPAGE,
    CRLF line ends, ``Attribute`` lines included. The module name is olevba's file name without
    its ``.bas``/``.cls``/``.frm`` suffix. A project with no VBA gives ``{}``.

    Raises ``ValueError`` when olevba finds the same module name twice.
    """
    from oletools.olevba import VBA_Parser

    if isinstance(data, (bytes, bytearray, memoryview)):
        parser = VBA_Parser("vbaProject.bin", data=bytes(data))
    else:
        parser = VBA_Parser(str(Path(data)))
    try:
        modules: dict[str, str] = {}
        if not parser.detect_vba_macros():
            return modules
        for _container, _stream, filename, code in parser.extract_macros():
            name = filename.rsplit(".", 1)[0] if "." in filename else filename
            if isinstance(code, bytes):  # olevba < 0.60 on some inputs
                code = code.decode("latin-1")
            if name in modules:
                raise ValueError(f"olevba found module {name!r} twice")
            modules[name] = code
        return modules
    finally:
        parser.close()


@dataclass(frozen=True)
class ProjectStreams:
    """What the validator reads of a ``vbaProject.bin``, opened once: the decompressed
    ``VBA/dir``, what it declares, each module's stream and the ``VBA/_VBA_PROJECT`` stream."""

    dir_data: bytes
    project: ProjectDir
    streams: tuple[tuple[str, bytes], ...]  # module name -> its stream, in project order
    vba_project: bytes


def project_streams(data: bytes) -> ProjectStreams | None:
    """The project's streams (None when it cannot be read this way), memoised by its bytes
    (:mod:`cos_xl.validate.memo`): the sources and the compiled code are read from one open."""
    from cos_xl.validate import memo

    return memo.by_bytes("vba-project", data, _project_streams)


def _project_streams(data: bytes) -> ProjectStreams | None:
    import io

    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        try:
            dir_data = decompressed(ole.openstream("VBA/dir").read())
            project = read_dir(dir_data)
            streams = tuple((m.name, ole.openstream(f"VBA/{m.stream}").read())
                            for m in project.modules)
            vba_project = (ole.openstream("VBA/_VBA_PROJECT").read()
                           if ole.exists("VBA/_VBA_PROJECT") else b"")
        finally:
            ole.close()
    except Exception:  # an unusual or damaged project: the callers fall back or pass
        return None
    return ProjectStreams(dir_data, project, streams, vba_project)


def read_vba_module_sources(data: bytes, names: Iterable[str]) -> dict[str, str]:
    """``{name: source}`` of the named modules of a ``vbaProject.bin`` that it has,
    decompressing only those modules.

    olevba decompresses every module (~0.1 s for xlwings' 45 KB module, in pure Python); the
    validator needs two. Finds each module's stream and source offset with :func:`read_dir`.
    Falls back to :func:`read_vba_modules` when the dir stream is unusual.
    """
    names = list(names)
    try:
        found = project_streams(data)
        if found is None or not found.project.modules:
            raise ValueError("no module records in VBA/dir")
        offsets = {record.name: record.offset for record in found.project.modules}
        streams = dict(found.streams)
        codes = {name: decompressed(streams[name][offsets[name]:])
                 for name in names if name in streams}
    except Exception:  # an unusual or damaged project: the complete (slow) reader decides
        everything = read_vba_modules(data)
        return {name: everything[name] for name in names if name in everything}
    return {name: code.decode("cp1251", errors="replace") for name, code in codes.items()}


def read_dir(dir_data: bytes) -> ProjectDir:
    """The platform, code page and modules (in their order) of a decompressed ``VBA/dir``.

    Walks its records ([MS-OVBA] 2.3.4.2: Id u16, Size u32, data; PROJECTVERSION 0x0009
    carries 2 bytes more than its Size says) to PROJECTSYSKIND (0x0001), PROJECTCODEPAGE
    (0x0003) and each module's MODULENAME (0x0019), MODULESTREAMNAME (0x001A) and MODULEOFFSET
    (0x0031), up to its terminator (0x002B). Raises ``ValueError`` for a module without a
    stream name or offset.
    """
    pos, sys_kind, code_page, current, stream, offset = 0, None, None, None, None, None
    modules: list[ModuleRecord] = []
    while pos + 6 <= len(dir_data):
        rid, size = struct.unpack_from("<HI", dir_data, pos)
        pos += 6
        body = dir_data[pos:pos + size]
        pos += size + (2 if rid == 0x0009 else 0)
        if rid == 0x0001 and len(body) == 4:  # PROJECTSYSKIND
            sys_kind = struct.unpack("<I", body)[0]
        elif rid == 0x0003 and len(body) == 2:  # PROJECTCODEPAGE
            code_page = struct.unpack("<H", body)[0]
        elif rid == 0x0019:  # MODULENAME
            current, stream, offset = body.decode("latin-1"), None, None
        elif rid == 0x001A:  # MODULESTREAMNAME
            stream = body.decode("latin-1")
        elif rid == 0x0031 and len(body) == 4:  # MODULEOFFSET
            offset = struct.unpack("<I", body)[0]
        elif rid == 0x002B and current is not None:  # module terminator
            if stream is None or offset is None:
                raise ValueError(f"VBA/dir: module {current!r} has no stream name or offset")
            modules.append(ModuleRecord(current, stream, offset))
            current = None
    return ProjectDir(sys_kind, code_page, tuple(modules))


def decompressed(compressed: bytes) -> bytes:
    """MS-OVBA decompression (olevba's, pure Python: ~4 ms for xlwings' module), memoised by
    the compressed bytes (:mod:`cos_xl.validate.memo`): an office program that saves a return
    rewrites the project's ``PROJECT`` stream, but leaves the module streams as they were, so
    the returns of a round decompress the same few streams."""
    from cos_xl.validate import memo

    return memo.by_bytes("vba-decompressed", compressed, _decompress)


def _decompress(compressed: bytes) -> bytes:
    from oletools.olevba import decompress_stream

    return bytes(decompress_stream(bytearray(compressed)))
