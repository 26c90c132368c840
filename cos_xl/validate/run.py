"""Validate one returned workbook: file safety, identity, locked structure, values — in that
order, each stage only when the file got through the one before. A verdict and findings."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cos_xl.findings import Finding
from cos_xl.findings_catalogue import finding
from cos_xl.periods import Period
from cos_xl.signing import SigningKey, verify
from cos_xl.spec import Form
from cos_xl.template.builder import sha256_text, vba_project
from cos_xl.validate import memo
from cos_xl.validate.annotation import ANNOTATION_SHEET, sealed
from cos_xl.validate.expected import UnknownTemplate, expected_structure, form_for
from cos_xl.validate.integrity import integrity_findings
from cos_xl.validate.ooxml import DuplicateCell, read_package
from cos_xl.validate.reader import ReadError, returned_from_package
from cos_xl.validate.rollup_sheet import ROLLUP_SHEET, rollup_findings
from cos_xl.validate.safety import SafetyLimits, inspect_file
from cos_xl.validate.values import value_findings
from cos_xl.vba.wrappers import normalised_source

Verdict = Literal["PASS", "PASS_WITH_WARNINGS", "FAIL"]

@dataclass
class FileResult:
    path: Path
    verdict: Verdict = "FAIL"
    findings: list[Finding] = field(default_factory=list)
    region_code: str | None = None
    period: str | None = None
    form_version: str | None = None
    #: a unit's return (one level down, ``cos-xl generate --units``): the unit's id; None for a
    #: region's return
    unit_id: str | None = None
    seconds: float = 0.0
    # What the file says, once its manifest is trusted: input values by id (as read, so a text
    # stays a text), explanations by rule instance id, and the signed manifest itself.
    values: dict[str, object] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)
    manifest: dict | None = None


def unit_of(manifest: dict) -> str | None:
    """The unit id of a unit's return (manifest ``level`` "unit"); None for a region's."""
    if manifest.get("level") != "unit":
        return None
    unit = manifest.get("unit")
    return str(unit["id"]) if isinstance(unit, dict) and unit.get("id") else None


def verdict_of(findings: list[Finding]) -> Verdict:
    severities = {f.severity for f in findings}
    if "error" in severities:
        return "FAIL"
    return "PASS_WITH_WARNINGS" if "warning" in severities else "PASS"


def _vba_digests(vba: bytes | None, names: list[str]) -> dict[str, str] | None:
    """None when the project is byte for byte the one issued; else the digests of the named
    module sources, normalised as the generator hashes them (an office program that saves the
    file rewrites the project, so the sources are compared, not the bytes). Memoised by the
    project's bytes: LibreOffice rewrites only its PROJECT stream, so the modules recur."""
    if vba is not None and vba == vba_project():
        return None
    if vba is None:
        return {}
    wanted = tuple(names)
    return dict(memo.by_bytes("vba-module-digests", vba,
                              lambda data: _module_digests(data, wanted),
                              "\x00".join(wanted).encode()))


def _module_digests(vba: bytes, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from cos_xl.vba.read import read_vba_module_sources
    sources = read_vba_module_sources(vba, names)
    return tuple((name, sha256_text(normalised_source(sources[name])))
                 for name in names if name in sources)


def validate_file(path: Path, key: SigningKey | None, *, limits: SafetyLimits | None = None,
                  previous: Mapping[str, Mapping] | None = None,
                  allow_dev_key: bool = False) -> FileResult:
    """Judge one returned file. Never raises for a bad file: every problem is a finding.

    ``previous`` maps region codes to ``{"period": "2020Q2", "values": {"E4.03": 41.5, …}}``,
    the region's last accepted figures; it overrides those prefilled in the template.

    ``key`` None skips the one stage a region cannot run on its federal template — the check of
    the manifest's signature (the federal key is not theirs): ``cos-xl rollup`` checks the
    workbook it fills this way before writing it. Intake and ``cos-xl validate`` always pass
    a key."""
    started = time.perf_counter()
    result = FileResult(Path(path))

    def done(findings: list[Finding]) -> FileResult:
        result.findings = findings
        result.verdict = verdict_of(findings)
        result.seconds = time.perf_counter() - started
        return result

    safety = inspect_file(Path(path), limits or SafetyLimits())
    if not safety.ok:
        return done(list(safety.findings))
    findings = list(safety.findings)
    try:
        package = read_package(Path(path), parts=safety.parts)
        returned = returned_from_package(Path(path), package)
    except DuplicateCell as exc:
        return done(findings + [finding("cell-duplicated", sheet=exc.sheet or exc.part,
                                        cell=exc.ref)])
    except (ReadError, ValueError) as exc:
        return done(findings + [finding("workbook-unreadable", detail=exc)])
    manifest = returned.manifest
    if manifest is None or returned.signature is None:
        return done(findings + [finding("manifest-missing")])
    result.region_code = manifest.get("region_code")
    result.period = manifest.get("period")
    result.form_version = manifest.get("form_version")
    result.unit_id = unit_of(manifest)
    if key is not None and not verify(returned.manifest_text or "", returned.signature, key):
        return done(findings + [finding("manifest-signature-invalid")])
    if manifest.get("dev_key") and not allow_dev_key:
        findings.append(finding("manifest-dev-key"))
    try:
        form: Form = form_for(manifest)
        expected = expected_structure(manifest)
    except UnknownTemplate as exc:
        return done(findings + [finding("template-unknown", detail=exc)])
    rollup = rollup_findings(package, form, manifest, returned.values)
    findings += integrity_findings(package, expected, manifest,
                                   _vba_digests(package.vba_project, sorted(expected.vba)),
                                   _annotation_sealed(package, returned.manifest_text or "", key),
                                   set_aside=(ROLLUP_SHEET,) if rollup is not None else ())
    findings += rollup or []
    findings += value_findings(form, returned, _previous_for(manifest, previous))
    result.values = dict(returned.values)
    result.explanations = dict(returned.explanations)
    result.manifest = manifest
    return done(findings)


def _annotation_sealed(package, manifest_text: str, key: SigningKey | None) -> bool | None:
    """None when the file has no sheet «Замечания»; else whether it is the validator's own
    (never, without the key)."""
    for sheet in package.sheets:
        if sheet.name == ANNOTATION_SHEET:
            if key is None:
                return False
            return sealed({ref: cell.value for ref, cell in sheet.cells.items()
                           if cell.formula is None}, manifest_text, key) and not any(
                cell.formula is not None for cell in sheet.cells.values())
    return None


def _previous_for(manifest: dict, previous: Mapping[str, Mapping] | None
                  ) -> tuple[dict[str, float], bool] | None:
    entry = (previous or {}).get(str(manifest.get("region_code")))
    if not entry:
        return None
    same_year = bool(entry.get("period")) and (
        Period.parse(entry["period"]).year == Period.parse(manifest["period"]).year)
    return {k: float(v) for k, v in (entry.get("values") or {}).items() if v is not None}, \
        same_year


# -- many files ---------------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(key: SigningKey, options: dict) -> None:
    _WORKER["key"], _WORKER["options"] = key, options


def _validate_in_worker(path: Path) -> FileResult:
    return validate_file(path, _WORKER["key"], **_WORKER["options"])


def default_workers(count: int) -> int:
    """Worker processes for ``count`` files: one process for a round's few dozen files (a
    worker's start costs more than it saves), up to every core for thousands."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    return max(1, min(cores, count // 200))


def validate_files(paths: Sequence[Path], key: SigningKey, *, workers: int | None = None,
                   limits: SafetyLimits | None = None,
                   previous: Mapping[str, Mapping] | None = None,
                   allow_dev_key: bool = False) -> Iterator[FileResult]:
    """``validate_file`` over many files, in their order, in ``workers`` processes (default:
    ``default_workers``). The first file is validated here, so that the workers, forked
    after it, start with the period's structure already rebuilt."""
    paths = [Path(p) for p in paths]
    options = {"limits": limits, "previous": previous, "allow_dev_key": allow_dev_key}
    workers = default_workers(len(paths)) if workers is None else max(1, workers)
    if workers == 1 or len(paths) < 2 or "fork" not in mp.get_all_start_methods():
        for path in paths:
            yield validate_file(path, key, **options)
        return
    yield validate_file(paths[0], key, **options)
    context = mp.get_context("fork")
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(key, options)) as pool:
        yield from pool.map(_validate_in_worker, paths[1:], chunksize=chunk)
