"""The validator of returned workbooks (``cos-xl validate``), in layers; each runs only on a
file that got through the one before (:mod:`cos_xl.validate.run`).

1. :mod:`cos_xl.validate.safety` — the raw file, before any spreadsheet library parses it: the
   format by content, size, ZIP structure (bombs, traversal, duplicates, encryption), XML
   declarations (XXE). Only a file whose report is ``ok`` goes further.
2. :mod:`cos_xl.validate.reader` and :mod:`cos_xl.validate.ooxml` — the manifest and the values
   of the cells it names; the locked structure of the package.
3. :mod:`cos_xl.validate.expected` and :mod:`cos_xl.validate.integrity` — that structure against
   the one issued; :mod:`cos_xl.validate.values` — the values (input checks and form rules).
4. :mod:`cos_xl.validate.report` — what a run says, for people and machines.
"""

from cos_xl.validate.safety import (
    SAFETY_CODES,
    SafetyLimits,
    SafetyReport,
    inspect_file,
)

__all__ = ["SAFETY_CODES", "SafetyLimits", "SafetyReport", "inspect_file"]
