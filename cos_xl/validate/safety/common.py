"""What every check of the safety layer shares: the limits, the report, its finding codes and
how a size or a name from the file appears in a message.

Limits (:class:`SafetyLimits`) and why the defaults. Measured on the generated templates: 60 KB
(``.xlsm``, 17 parts) and 31 KB (``.xlsx``, 16 parts), 227 KB and 189 KB unpacked, the largest
part 65 KB, per-part compression 1.4:1 to 8.6:1 (whole archive 3.9:1 and 6.4:1); the same forms
filled and saved by LibreOffice: at most 82 KB for one part and 10.2:1. The defaults — 20 MiB
file, 200 parts, 100 MiB unpacked, 10 MiB per XML part, 100:1 for parts over 1 MiB — leave two
orders of magnitude for what office programs add when they save a filled form (calcChain,
printer settings, a thumbnail) and still bound time (well under 1 s) and memory (a few MiB). The
ratio is checked only for parts over 1 MiB unpacked: a small part costs little whatever its
ratio, and small, very repetitive XML (rows of empty styled cells) can pass 100:1 honestly; the
total and per-XML-part limits bound the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import codes_of

KiB = 1024
MiB = 1024 * KiB

Kind = Literal["xlsx", "xlsm", "encrypted", "xls", "ods", "csv", "html", "empty", "unknown",
               "zip-other"]

#: code -> (severity, Russian title) of the codes this layer gives (declared, with their
#: messages, in :mod:`cos_xl.findings_catalogue`).
SAFETY_CODES: dict[str, tuple[str, str]] = codes_of("файл")


@dataclass(frozen=True)
class SafetyLimits:
    """Hard limits of the safety layer (see the module docstring for the reasoning)."""

    max_file_size: int = 20 * MiB
    max_entries: int = 200
    max_total_uncompressed: int = 100 * MiB
    max_ratio: float = 100.0  # uncompressed : compressed, per part ...
    ratio_min_size: int = 1 * MiB  # ... checked only for parts larger than this unpacked
    max_xml_part_size: int = 10 * MiB
    #: bytes of central directory allowed per permitted entry (a real record is ~100 bytes);
    #: bounds what ``zipfile`` parses before the entry count can be checked.
    central_directory_per_entry: int = 1 * KiB


@dataclass(frozen=True)
class SafetyReport:
    """What the safety layer found: the kind of file by its content, and findings."""

    path: Path
    kind: Kind
    size: int
    findings: list[Finding] = field(default_factory=list)
    # The unpacked parts of a ZIP package (name -> bytes), kept when every part was unpacked and
    # checked, so that the reader need not unpack them a second time; None otherwise.
    parts: dict[str, bytes] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """No error finding: the file may be handed to a spreadsheet library."""
        return not any(f.severity == "error" for f in self.findings)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]


# ---------------------------------------------------------------------------------------------
# values as messages show them

def size_text(n: int) -> str:
    if n >= MiB:
        return f"{n / MiB:.1f} МБ".replace(".", ",")
    if n >= KiB:
        return f"{n / KiB:.1f} КБ".replace(".", ",")
    return f"{n} байт"


@lru_cache(maxsize=1024)
def printable(name: str, limit: int = 120) -> str:
    """A name from the file as it may appear in a message: control characters escaped, cut."""
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in name[:limit])
    return text + ("…" if len(name) > limit else "")


class Broken(Exception):
    """Internal: the structure being read is broken."""
