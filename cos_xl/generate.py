"""Generate the locked input workbooks of one period, one per region."""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cos_xl.campaign import Campaign
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


@dataclass(frozen=True)
class GenerationResult:
    out_dir: Path
    paths: tuple[Path, ...]
    seconds: float
    unchanged: int = 0  # files already there with the very same bytes, left as they were


def workbook_filename(period: Period, region: Region, macros: bool = True) -> str:
    """ASCII only, so that mail systems and every Windows code page keep it intact."""
    return f"cos_{period}_{region.code}{'.xlsm' if macros else '.xlsx'}"


def template_context(form: Form, campaign: Campaign, period: Period, region: Region,
                     previous: Mapping[str, tuple[Period, dict[str, float]]] | None = None,
                     macros: bool = True) -> TemplateContext:
    prev_period, prev_values = (previous or {}).get(region.code, (None, {}))
    return TemplateContext(
        form=form, region=region, period=period, deadline=campaign.deadline(period),
        issued=campaign.issued(period), targets=campaign.targets(period, form),
        password=campaign.protection_password, contact=campaign.contact,
        previous=dict(prev_values), previous_period=prev_period, macros=macros,
    )


def _build_one(campaign: Campaign, period: Period, region: Region, previous, key: SigningKey,
               macros: bool) -> bytes:
    form = load_form(campaign.form_for(period))
    ctx = template_context(form, campaign, period, region, previous, macros)
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


def generate(period: Period | str, out_dir: Path, key: SigningKey, *,
             campaign: Campaign | None = None, regions: Iterable[str | int] | None = None,
             previous: Mapping[str, tuple[Period, dict[str, float]]] | None = None,
             on_progress: Callable[[Region, Path], None] | None = None,
             workers: int | None = None, fast: bool = True,
             macros: bool = True, force: bool = False) -> GenerationResult:
    """Write one workbook per region of the period into ``out_dir``.

    ``previous`` maps region codes to (period, {indicator code: value}) of their last accepted
    submission; those values are prefilled for the period-to-period checks.

    A file already in the folder is never overwritten by a different one unless ``force``
    (templates may have been sent): the run stops before writing anything. Byte-identical files
    are left as they are. The folder records the key fingerprint of each period; another key
    for the same period is refused, even with ``force``.

    Regions without previous values are rendered from one skeleton of the period
    (:mod:`cos_xl.template.batch`, same bytes as the full builder, ~6 ms each); the others are
    built in full, by ``workers`` processes when there are many."""
    started = time.perf_counter()
    period = Period.parse(period)
    campaign = campaign or Campaign()
    form = load_form(campaign.form_for(period))
    selected = select_regions(regions, period.year, period.quarter)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise GenerateError(f"{out_dir}: это файл, а нужна папка для шаблонов")
    record = _check_key(out_dir, period, key) if out_dir.is_dir() else {}
    prev = {r.code: previous[r.code] for r in selected if previous and r.code in previous}
    targets = {r.code: out_dir / workbook_filename(period, r, macros) for r in selected}
    full: list[Region] = [r for r in selected if r.code in prev or not fast]
    batch_regions = [r for r in selected if r not in full]
    batch = PeriodBatch(template_context(form, campaign, period, batch_regions[0], None, macros),
                        key) if batch_regions else None

    def produce(region: Region) -> bytes:
        data = batch.render(region) if batch is not None and region not in full else None
        return data if data is not None else _build_one(campaign, period, region, prev, key,
                                                        macros)

    # Before writing anything: which files are already there, the same or different.
    same: set[str] = set()
    differ: list[Path] = []
    for region in selected:
        target = targets[region.code]
        if target.exists():
            if not target.is_file():
                raise GenerateError(f"{target}: это не файл; уберите его из папки")
            if target.read_bytes() == produce(region):
                same.add(region.code)
            else:
                differ.append(target)
    if differ and not force:
        names = ", ".join(p.name for p in differ[:5]) + (" …" if len(differ) > 5 else "")
        raise GenerateError(
            f"В папке {out_dir} уже есть {quantity(len(differ), 'шаблон', 'шаблона', 'шаблонов')}"
            f" с другим содержимым ({names}): возможно, они уже разосланы. Ничего не записано. "
            "Чтобы заменить их, повторите с --force; чтобы не трогать — выберите другую папку.")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}

    def done(region: Region, path: Path) -> None:
        written[region.code] = path
        if on_progress is not None:
            on_progress(region, path)

    to_build = [r for r in selected if r.code not in same]
    for region in selected:
        if region.code in same:
            done(region, targets[region.code])
    pooled = [r for r in to_build if r in full]
    for region in to_build:
        if region in pooled:
            continue
        data = batch.render(region) if batch is not None else None
        if data is None:
            pooled.append(region)
            continue
        write_atomically(targets[region.code], data)
        done(region, targets[region.code])

    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(pooled) < _PARALLEL_FROM:
        for region in pooled:
            write_atomically(targets[region.code],
                             _build_one(campaign, period, region, prev, key, macros))
            done(region, targets[region.code])
    else:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            futures = [pool.submit(_build_one, campaign, period, region, prev, key, macros)
                       for region in pooled]
            for region, future in zip(pooled, futures, strict=True):
                write_atomically(targets[region.code], future.result())
                done(region, targets[region.code])
    periods = dict(record.get("periods") or {})
    periods[str(period)] = {"key": key.fingerprint, "dev_key": key.dev}
    write_atomically(out_dir / FOLDER_RECORD, json.dumps(
        {"schema": "cos-xl/templates-folder/1", "periods": periods}, ensure_ascii=False,
        indent=1, sort_keys=True).encode("utf-8"))
    paths = tuple(written[r.code] for r in selected)
    return GenerationResult(out_dir, paths, time.perf_counter() - started,
                            unchanged=len(same))
