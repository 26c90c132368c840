"""The same returns as :mod:`cos_xl.demo.mistakes` writes, but filled and saved by a real office
program: LibreOffice headless over UNO (:class:`cos_xl.office.LibreOffice`), one instance for
many files (about 1-3 s a file, against a few ms for :func:`cos_xl.fill.fill_workbook`).

Inputs are set through their workbook-level defined names, explanations and pasted-over cells
through ``'Sheet'!A1`` references. A formula pasted over is typed into the locked cell through
UNO (``allow_locked``): LibreOffice's API does not enforce sheet protection, as a person who
removes the protection, types and protects again would not leave a trace either.
"""

from __future__ import annotations

import os
from pathlib import Path

from cos_xl.fill import read_manifest
from cos_xl.demo.mistakes import PlannedFile, RoundPlan, Send, resolve, template_path
from cos_xl.office import LibreOffice
from cos_xl.validate.expected import form_for

__all__ = ["fill_with_libreoffice", "set_values_for", "write_returns_libreoffice"]


def _a1(address: str) -> str:
    sheet, cell = address.rsplit("!", 1)
    return "'" + sheet.replace("'", "''") + "'!" + cell


def set_values_for(send: Send, manifest: dict) -> dict[str, object]:
    """The ``set_values`` of :meth:`LibreOffice.process` for one file: inputs by defined name
    (empty inputs are left alone: they are empty in the template), then explanations, then the
    constants pasted over formulas, by cell."""
    form = form_for(manifest)
    out: dict[str, object] = {form.excel_name(input_id): value
                              for input_id, value in send.values.items() if value is not None}
    for rule_id, text in send.explanations.items():
        out[_a1(manifest["checks"][rule_id]["explanation"])] = text
    for paste in send.pastes:
        out[_a1(resolve(manifest, paste.name))] = paste.value
    return out


def fill_with_libreoffice(office: LibreOffice, template: Path, send: Send, save_as: Path) -> Path:
    """Open the template in LibreOffice, type the file's values, recalculate, save as
    ``save_as`` (its suffix chooses the format: .xlsm keeps the macros)."""
    manifest = read_manifest(Path(template).read_bytes())
    office.process(template, set_values=set_values_for(send, manifest), save_as=save_as,
                   allow_locked=bool(send.pastes))
    return Path(save_as)


def write_returns_libreoffice(plan: RoundPlan, templates_dir: Path, out_dir: Path,
                              office: LibreOffice | None = None,
                              regions: set[str] | None = None) -> list[PlannedFile]:
    """:func:`cos_xl.demo.mistakes.write_returns` through LibreOffice: every file of the plan
    (or of ``regions``), in order of receipt, modification time = receipt time. Uses ``office``
    if given, else starts and stops one LibreOffice."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    own = office is None
    office = office or LibreOffice()
    written = []
    try:
        for send in plan.sends:
            if regions is not None and send.region_code not in regions:
                continue
            template = template_path(Path(templates_dir), plan.period, send.region_code)
            path = out_dir / Path(send.filename).with_suffix(template.suffix).name
            fill_with_libreoffice(office, template, send, path)
            stamp = send.received_at.timestamp()
            os.utime(path, (stamp, stamp))
            written.append(PlannedFile(send, path))
    finally:
        if own:
            office.close()
    return written
