"""VBA for the ``.xlsm`` workbooks: the ``vbaProject.bin`` they carry and a reader for it.

- :func:`build_vba_project` (:mod:`cos_xl.vba.project`) builds the project: document modules for
  the workbook and its sheets, xlwings' standalone ``xlwings`` module and ``Dictionary`` class
  (taken from the installed xlwings at run time), plus our own standard modules.
- :func:`read_vba_modules` (:mod:`cos_xl.vba.read`) lists the module sources of a project or a
  workbook as ``olevba`` (oletools) extracts them: for tests and the validator.
"""

from cos_xl.vba.project import (
    DEFAULT_CODE_PAGE,
    XLWINGS_MODULES,
    VbaProjectError,
    build_vba_project,
    xlwings_template,
)
from cos_xl.vba.read import read_vba_modules

__all__ = [
    "DEFAULT_CODE_PAGE",
    "XLWINGS_MODULES",
    "VbaProjectError",
    "build_vba_project",
    "read_vba_modules",
    "xlwings_template",
]
