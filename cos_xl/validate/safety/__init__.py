"""First layer of the validator: is a returned file safe to hand to a spreadsheet library?

Every returned file is treated as hostile. :func:`inspect_file` looks at the raw bytes BEFORE any
spreadsheet library parses them and says, as findings, what kind of file it really is (by
content, never by its extension) and whether it is safe to open. One module per concern:

* :mod:`~cos_xl.validate.safety.inspection` — the entry point: the size first, then by the
  first bytes one of
* :mod:`~cos_xl.validate.safety.ole` — OLE compound files: an encrypted workbook, a legacy
  ``.xls``, another Office 97–2003 document;
* :mod:`~cos_xl.validate.safety.archive` — ZIP archives: directory, names, sizes, ratios,
  bounded inflation, XML declarations (XXE, billion laughs), what the package is;
* :mod:`~cos_xl.validate.safety.sniff` — anything else, by content (HTML, CSV, PDF...), and
  whether the name's extension says the same;
* :mod:`~cos_xl.validate.safety.triage` — :func:`not_a_workbook`, what intake takes at all;
* :mod:`~cos_xl.validate.safety.common` — the limits (and why the defaults), the report, how
  sizes and names from the file appear in messages.

``kind`` is what the content is: for a file over the size limit only its first 8 KiB are looked
at (so a ZIP or OLE file over the limit is "unknown"); "zip-other" is a ZIP archive that is not,
or can no longer be read as, a workbook (a truncated or corrupt one included).

Not judged here (later layers or nobody): what the VBA project, formulas, external links, ActiveX
controls or embedded objects do (they are only reported as present); XInclude or schema
references inside XML (no parser here resolves them); whether a well-formed part is a valid
SpreadsheetML part.

Nothing here writes to disk, and no exception escapes :func:`inspect_file` for any content: a bad
file is a finding. Its codes, severities and messages are declared in
:mod:`cos_xl.findings_catalogue` (stage «файл»); :data:`SAFETY_CODES` lists them.
"""

from cos_xl.validate.safety.archive import _inflate as _inflate  # tests drive it directly
from cos_xl.validate.safety.common import SAFETY_CODES, KiB, Kind, MiB, SafetyLimits, SafetyReport
from cos_xl.validate.safety.inspection import inspect_file
from cos_xl.validate.safety.triage import not_a_workbook

__all__ = ["SAFETY_CODES", "KiB", "Kind", "MiB", "SafetyLimits", "SafetyReport", "inspect_file",
           "not_a_workbook"]
