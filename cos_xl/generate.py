"""Generate the locked input workbooks of one period, one per region (or one per unit of a
region, one level down)."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cos_xl.campaign import Campaign, Contact
from cos_xl.errors import CosXlError
from cos_xl.files import write_atomically
from cos_xl.periods import Period
from cos_xl.plural import quantity
from cos_xl.regions import Region, select_regions
from cos_xl.signing import SigningKey
from cos_xl.spec import Form, load_form
from cos_xl.template.batch import PeriodBatch
from cos_xl.template.builder import build_workbook
from cos_xl.template.context import TemplateContext
from cos_xl.units import Unit


@dataclass(frozen=True)
class GenerationResult:
    out_dir: Path
    paths: tuple[Path, ...]
    seconds: float
    unchanged: int = 0  # files already there with the very same bytes, left as they were


def workbook_filename(period: Period, region: Region, macros: bool = True) -> str:
    """ASCII only, so that mail systems and every Windows code page keep it intact."""
    return f"cos_{period}_{region.code}{'.xlsm' if macros else '.xlsx'}"


def unit_filename(period: Period, region: Region, unit: Unit, macros: bool = True) -> str:
    """A unit's workbook: the region's name with the unit id (ASCII by the units file's rule)."""
    return f"cos_{period}_{region.code}_{unit.unit_id}{'.xlsm' if macros else '.xlsx'}"


def template_context(form: Form, campaign: Campaign, period: Period, region: Region,
                     previous: Mapping[str, tuple[Period, dict[str, float]]] | None = None,
                     macros: bool = True, unit: Unit | None = None) -> TemplateContext:
    prev_period, prev_values = (None, {}) if unit is not None else (
        (previous or {}).get(region.code, (None, {})))
    return TemplateContext(
        form=form, region=region, period=period, deadline=campaign.deadline(period),
        issued=campaign.issued(period), targets=campaign.targets(period, form),
        password=campaign.protection_password, contact=campaign.contact,
        previous=dict(prev_values), previous_period=prev_period, macros=macros, unit=unit,
    )


def _build_one(campaign: Campaign, period: Period, region: Region, previous, key: SigningKey,
               macros: bool, unit: Unit | None = None) -> bytes:
    form = load_form(campaign.form_for(period))
    ctx = template_context(form, campaign, period, region, previous, macros, unit)
    data, _ = build_workbook(ctx, key)
    return data


# Below this many full builds a worker pool costs more than it saves.
_PARALLEL_FROM = 8
#: The record of a folder of templates: the key fingerprint of each period written into it.
FOLDER_RECORD = ".templates-cos-xl.json"


class GenerateError(CosXlError):
    """Generating would overwrite templates already written, or mix signing keys in a folder."""


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _folder_record(out_dir: Path) -> dict:
    path = out_dir / FOLDER_RECORD
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GenerateError(f"{path}: запись о шаблонах папки не читается ({exc}); проверьте "
                            "папку или удалите этот файл, если папка пуста") from exc
    return record if isinstance(record, dict) else {}


def _check_key(out_dir: Path, period: Period, key: SigningKey) -> dict:
    record = _folder_record(out_dir)
    known = (record.get("periods") or {}).get(str(period))
    if known and known.get("key") != key.fingerprint:
        raise GenerateError(
            f"В папке {out_dir} уже есть шаблоны {period}, подписанные другим ключом (отпечаток "
            f"{known.get('key')}, сейчас {key.fingerprint}): шаблоны одной папки и периода "
            "подписываются одним ключом. Выберите другую папку или прежний ключ.")
    return record


@dataclass(frozen=True)
class _Job:
    """One workbook to write: a region's, or one of its units'."""

    name: str  # the region code, or the unit id
    region: Region
    unit: Unit | None
    target: Path

    @property
    def owner(self) -> Region | Unit:
        return self.unit if self.unit is not None else self.region


def generate(period: Period | str, out_dir: Path, key: SigningKey, *,
             campaign: Campaign | None = None, regions: Iterable[str | int] | None = None,
             previous: Mapping[str, tuple[Period, dict[str, float]]] | None = None,
             on_progress: Callable[[Region | Unit, Path], None] | None = None,
             workers: int | None = None, fast: bool = True,
             macros: bool = True, force: bool = False,
             units: Sequence[Unit] | None = None) -> GenerationResult:
    """Write one workbook per region of the period into ``out_dir`` — or, with ``units``, one
    per unit of the one region selected (one level down: the region collects from its
    municipalities or organisations; their manifests say ``"level": "unit"``).

    ``previous`` maps region codes to (period, {indicator code: value}) of their last accepted
    submission; those values are prefilled for the period-to-period checks (regions only).

    A file already in the folder is never overwritten by a different one unless ``force``
    (templates may have been sent): the run stops before writing anything. Byte-identical files
    are left as they are. The folder records the key fingerprint of each period; another key
    for the same period is refused, even with ``force``.

    Workbooks without previous values are rendered from one skeleton of the period (per kind
    of unit) (:mod:`cos_xl.template.batch`, same bytes as the full builder, ~6 ms each); the
    others are built in full, by ``workers`` processes when there are many."""
    started = time.perf_counter()
    period = Period.parse(period)
    campaign = campaign or Campaign()
    form = load_form(campaign.form_for(period))
    selected = select_regions(regions, period.year, period.quarter)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise GenerateError(f"{out_dir}: это файл, а нужна папка для шаблонов")
    if units is not None and len(selected) != 1:
        raise GenerateError("Шаблоны МО и организаций формируются для одного субъекта: укажите "
                            "его код в --region (например, --region 77)")
    if units is not None and campaign.contact == Contact():
        # the federal operator's default contact does not belong in a unit's workbook
        campaign = campaign.model_copy(update={"contact": Contact(
            name=f"Орган управления образованием: {selected[0].full_name}")})
    record = _check_key(out_dir, period, key) if out_dir.is_dir() else {}
    prev = {} if units is not None else {
        r.code: previous[r.code] for r in selected if previous and r.code in previous}
    if units is None:
        jobs = [_Job(r.code, r, None, out_dir / workbook_filename(period, r, macros))
                for r in selected]
    else:
        jobs = [_Job(u.unit_id, selected[0], u,
                     out_dir / unit_filename(period, selected[0], u, macros)) for u in units]
    full = {job.name for job in jobs if job.region.code in prev or not fast}
    batches: dict[str | None, PeriodBatch] = {}

    def batch_for(job: _Job) -> PeriodBatch:
        kind = job.unit.kind if job.unit is not None else None
        if kind not in batches:
            batches[kind] = PeriodBatch(template_context(
                form, campaign, period, job.region, None, macros, job.unit), key)
        return batches[kind]

    def fast_render(job: _Job) -> bytes | None:
        if job.name in full:
            return None
        batch = batch_for(job)
        return batch.render(job.region) if job.unit is None else batch.render_unit(job.unit)

    def produce(job: _Job) -> bytes:
        data = fast_render(job)
        return data if data is not None else _build_one(campaign, period, job.region, prev,
                                                        key, macros, job.unit)

    # Before writing anything: which files are already there, the same or different.
    same: set[str] = set()
    differ: list[Path] = []
    for job in jobs:
        if job.target.exists():
            if not job.target.is_file():
                raise GenerateError(f"{job.target}: это не файл; уберите его из папки")
            if job.target.read_bytes() == produce(job):
                same.add(job.name)
            else:
                differ.append(job.target)
    if differ and not force:
        names = ", ".join(p.name for p in differ[:5]) + (" …" if len(differ) > 5 else "")
        raise GenerateError(
            f"В папке {out_dir} уже есть {quantity(len(differ), 'шаблон', 'шаблона', 'шаблонов')}"
            f" с другим содержимым ({names}): возможно, они уже разосланы. Ничего не записано. "
            "Чтобы заменить их, повторите с --force; чтобы не трогать — выберите другую папку.")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def done(job: _Job) -> None:
        written[job.name] = job.target
        if on_progress is not None:
            on_progress(job.owner, job.target)

    pooled: list[_Job] = []
    for job in jobs:
        if job.name in same:
            done(job)
            continue
        data = fast_render(job)
        if data is None:
            pooled.append(job)
            continue
        write_atomically(job.target, data)
        done(job)

    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(pooled) < _PARALLEL_FROM:
        for job in pooled:
            write_atomically(job.target, _build_one(campaign, period, job.region, prev, key,
                                                    macros, job.unit))
            done(job)
    else:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            futures = [pool.submit(_build_one, campaign, period, job.region, prev, key, macros,
                                   job.unit) for job in pooled]
            for job, future in zip(pooled, futures, strict=True):
                write_atomically(job.target, future.result())
                done(job)
    periods = dict(record.get("periods") or {})
    periods[str(period)] = {"key": key.fingerprint, "dev_key": key.dev}
    write_atomically(out_dir / FOLDER_RECORD, json.dumps(
        {"schema": "cos-xl/templates-folder/1", "periods": periods}, ensure_ascii=False,
        indent=1, sort_keys=True).encode("utf-8"))
    paths = tuple(written[job.name] for job in jobs)
    return GenerationResult(out_dir, paths, time.perf_counter() - started,
                            unchanged=len(same))
