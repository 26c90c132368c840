"""Real office programs for tests and checks: a headless LibreOffice driven over UNO.

See :mod:`cos_xl.office.libreoffice`. ``uno_worker`` is not imported here: it runs under the
system Python that has the ``uno`` module, in a subprocess.
"""

from cos_xl.office.libreoffice import (
    FILTERS,
    Formula,
    LibreOffice,
    find_soffice,
    find_uno_python,
    libreoffice_available,
    recalculate,
)

__all__ = [
    "FILTERS",
    "Formula",
    "LibreOffice",
    "find_soffice",
    "find_uno_python",
    "libreoffice_available",
    "recalculate",
]
