"""Read the VBA modules of a project or a workbook as ``olevba`` (oletools) extracts them.

oletools is an independent reader (it shares no code with the writer, pyopenvba), which is why
the tests and the validator read with it. It is imported when first used.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["read_vba_modules"]


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
