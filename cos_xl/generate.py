"""Generate the locked input workbooks of one period, one per region."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cos_xl.campaign import Campaign
from cos_xl.files import write_atomically
from cos_xl.periods import Period
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
               out_dir: Path, macros: bool) -> Path:
    form = load_form(campaign.form_for(period))
    ctx = template_context(form, campaign, period, region, previous, macros)
    data, _ = build_workbook(ctx, key)
    path = out_dir / workbook_filename(period, region, macros)
    write_atomically(path, data)
    return path


# Below this many full builds a worker pool costs more than it saves.
_PARALLEL_FROM = 8


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def generate(period: Period | str, out_dir: Path, key: SigningKey, *,
             campaign: Campaign | None = None, regions: Iterable[str | int] | None = None,
             previous: Mapping[str, tuple[Period, dict[str, float]]] | None = None,
             on_progress: Callable[[Region, Path], None] | None = None,
             workers: int | None = None, fast: bool = True,
             macros: bool = True) -> GenerationResult:
    """Write one workbook per region of the period into ``out_dir``.

    ``previous`` maps region codes to (period, {indicator code: value}) of their last accepted
    submission; those values are prefilled for the period-to-period checks.

    Regions without previous values are rendered from one skeleton of the period
    (:mod:`cos_xl.template.batch`, same bytes as the full builder, ~6 ms each); the others are
    built in full, by ``workers`` processes when there are many."""
    started = time.perf_counter()
    period = Period.parse(period)
    campaign = campaign or Campaign()
    form = load_form(campaign.form_for(period))
    selected = select_regions(regions, period.year, period.quarter)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    prev = {r.code: previous[r.code] for r in selected if previous and r.code in previous}
    written: dict[str, Path] = {}

    def done(region: Region, path: Path) -> None:
        written[region.code] = path
        if on_progress is not None:
            on_progress(region, path)

    full: list[Region] = [r for r in selected if r.code in prev or not fast]
    batch_regions = [r for r in selected if r not in full]
    if batch_regions:
        batch = PeriodBatch(
            template_context(form, campaign, period, batch_regions[0], None, macros), key)
        for region in batch_regions:
            data = batch.render(region)
            if data is None:
                full.append(region)
                continue
            path = out_dir / workbook_filename(period, region, macros)
            write_atomically(path, data)
            done(region, path)

    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(full) < _PARALLEL_FROM:
        for region in full:
            done(region, _build_one(campaign, period, region, prev, key, out_dir, macros))
    else:
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            futures = [pool.submit(_build_one, campaign, period, region, prev, key, out_dir,
                                   macros) for region in full]
            for region, future in zip(full, futures, strict=True):
                done(region, future.result())
    paths = tuple(written[r.code] for r in selected)
    return GenerationResult(out_dir, paths, time.perf_counter() - started)
