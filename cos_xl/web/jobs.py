"""The jobs a worker process runs (:mod:`cos_xl.web.worker`), each a few lines over the library:
the same intake, annotated copy, template generation and consolidation as the CLI."""

from __future__ import annotations

import tempfile
from pathlib import Path

from cos_xl.campaign import Campaign, load_campaign
from cos_xl.errors import CosXlError
from cos_xl.ledger import open_ledger
from cos_xl.periods import Period
from cos_xl.validate.report import finding_json


class WorkerState:
    """What a worker keeps between jobs: the open ledger and the campaign file, if given."""

    def __init__(self, config) -> None:
        self.config = config
        self.ledger = open_ledger(config.db)
        self.explicit = (load_campaign(config.campaign_file)
                         if config.campaign_file is not None else None)

    def close(self) -> None:
        self.ledger.close()

    def warm(self) -> None:
        """Validate the newest period's template once, so that the first upload of a region
        does not pay for the imports and the period's expected structure."""
        from cos_xl.generate import generate
        from cos_xl.validate.run import validate_file

        periods = self.ledger.periods()
        if not periods:
            return
        period = Period.parse(periods[0])
        registered = self.ledger.campaign(period)
        region = registered.regions[0] if registered is not None and registered.regions else "77"
        with tempfile.TemporaryDirectory(prefix="cos-xl-warm-") as folder:
            try:
                result = generate(period, Path(folder), self.config.key, regions=[region],
                                  campaign=campaign_for(self.ledger, period, self.explicit),
                                  workers=1)
                validate_file(result.paths[0], self.config.key,
                              allow_dev_key=self.config.allow_dev_key)
            except CosXlError:
                pass


def campaign_for(ledger, period: Period, explicit: Campaign | None) -> Campaign:
    """The campaign settings of a period: given to the server, else recorded, else defaults."""
    if explicit is not None:
        return explicit
    registered = ledger.campaign(period)
    return registered.campaign if registered is not None else Campaign()


def run(state: WorkerState, job: tuple) -> object:
    name, *args = job
    return _JOBS[name](state, *args)


def intake(state: WorkerState, path: str, filename: str, region: str, period: str) -> dict:
    """Validate and record one uploaded file for the region and period of its link: a file of
    another region or period is refused and not stored."""
    config = state.config
    spooled = Path(path)
    (outcome,) = state.ledger.intake([spooled], config.key, allow_dev_key=config.allow_dev_key,
                                     period=period, region=region,
                                     names={spooled: filename})
    return {"status": outcome.status, "verdict": outcome.verdict, "message": outcome.message,
            "region_code": outcome.region_code, "period": outcome.period,
            "version": outcome.version, "sha256": outcome.sha256, "size": outcome.size,
            "form_version": outcome.form_version,
            "findings": [finding_json(f) for f in outcome.findings]}


def _submission(state: WorkerState, period: str, region: str, version: int):
    for sub in state.ledger.submissions(period, region):
        if sub.version == version:
            return sub
    raise CosXlError(f"Нет версии {version} субъекта {region} за {period}")


def _suffix(filename: str) -> str:
    return ".xlsx" if filename.lower().endswith(".xlsx") else ".xlsm"


def annotated(state: WorkerState, period: str, region: str, version: int
              ) -> tuple[str, bytes] | None:
    """The annotated copy of a stored version (its findings as recorded), or None when the
    file cannot be opened as a workbook."""
    from cos_xl.validate.annotate import annotate
    from cos_xl.validate.run import FileResult

    sub = _submission(state, period, region, version)
    with tempfile.TemporaryDirectory(prefix="cos-xl-annotate-") as folder:
        source = Path(folder) / f"cos_{period}_{region}_v{version}{_suffix(sub.filename)}"
        source.write_bytes(state.ledger.blob(sub.sha256))
        result = FileResult(source, verdict=sub.verdict, findings=list(sub.findings),
                            region_code=region, period=period, form_version=sub.form_version)
        written = annotate(result, Path(folder) / "out", state.config.key)
        return (written.name, written.read_bytes()) if written is not None else None


def template(state: WorkerState, period: str, region: str) -> tuple[str, bytes]:
    """The region's template of the period, as ``cos-xl generate`` writes it: the campaign's
    settings and the region's accepted figures of the period before."""
    from cos_xl.generate import generate

    parsed = Period.parse(period)
    registered = state.ledger.campaign(parsed)
    key = state.config.key
    if registered is not None and registered.key_fingerprint != key.fingerprint:
        raise CosXlError(f"Кампания {period} подписана другим ключом (отпечаток "
                         f"{registered.key_fingerprint}), у сервера — {key.fingerprint}: шаблон "
                         "выдать нельзя")
    previous = state.ledger.previous_figures(parsed.previous())
    with tempfile.TemporaryDirectory(prefix="cos-xl-template-") as folder:
        result = generate(parsed, Path(folder), key,
                          campaign=campaign_for(state.ledger, parsed, state.explicit),
                          regions=[region], previous=previous, workers=1)
        (path,) = result.paths
        return path.name, path.read_bytes()


def _report(state: WorkerState, period: str):
    from cos_xl.consolidate import consolidate_period
    from cos_xl.consolidate.ledger_inputs import consolidation_inputs
    from cos_xl.spec import load_form

    parsed = Period.parse(period)
    campaign = campaign_for(state.ledger, parsed, state.explicit)
    accepted, rejected = consolidation_inputs(state.ledger, parsed)
    return consolidate_period(load_form(campaign.form_for(parsed)), campaign, parsed,
                              accepted, rejected)


def national(state: WorkerState, period: str, fmt: str) -> object:
    """The national report of the period: "view" (what the federal page shows) or the bytes of
    the xlsx, JSON or CSV export."""
    from cos_xl.consolidate.exports import csv_bytes, json_text, to_json
    from cos_xl.consolidate.xlsx import xlsx_bytes

    report = _report(state, period)
    if fmt == "xlsx":
        return xlsx_bytes(report)
    if fmt == "json":
        return json_text(report).encode("utf-8")
    if fmt == "csv":
        return csv_bytes(report)
    data = to_json(report)
    return {"indicators": [
        {"code": line.indicator.code, "short": line.indicator.short,
         "title": line.indicator.title, "kind": line.indicator.kind,
         "unit": line.indicator.unit, **data["indicators"][line.indicator.code]}
        for line in report.national],
        "regions": data["regions"], "regions_reported": report.regions_reported,
        "regions_expected": report.regions_expected,
        "missing": data["missing"], "rejected": data["rejected"]}


def ping(state: WorkerState) -> str:
    return "pong"


_JOBS = {"intake": intake, "annotated": annotated, "template": template, "national": national,
         "ping": ping}
