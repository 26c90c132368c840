"""The submissions ledger: every returned workbook, every version, never overwritten.

    from cos_xl.ledger import open_ledger
    with open_ledger("postgresql://user@host/db") as ledger:      # or None: ./cos-xl.sqlite
        outcomes = ledger.intake(paths, key)                        # validate + record
        rows = ledger.status("2020Q3", campaign)                    # one row per region
        latest = ledger.latest_accepted("2020Q3")                   # region -> Submission
        ledger.previous_figures("2020Q2")                           # for generate(previous=…)

Modules: ``db`` (URL, engine, locks, Alembic migrations in ``migrations/``), ``schema``
(tables), ``records`` (rows as data), ``store`` (the Ledger: record and read), ``intake``
(validate and record files), ``status`` (where each region stands). One level down, the returns
of a region's units (municipalities, organisations) are kept beside the regions' own and never
seen by the federal readings: ``unit_campaigns`` (the units issued a workbook) and
``unit_status`` (where each unit stands); ``ledger.latest_accepted_units(period, region)`` is
what the regional rollup sums.
"""

from cos_xl.ledger.db import DEFAULT_DB, LedgerError, ledger_url
from cos_xl.ledger.intake import IntakeOutcome, intake
from cos_xl.ledger.records import Received, Recorded, UnattributedFile
from cos_xl.ledger.status import STATE_RU, StatusRow, status
from cos_xl.ledger.store import Ledger, indicator_figures, open_ledger

__all__ = [
    "DEFAULT_DB",
    "STATE_RU",
    "IntakeOutcome",
    "Ledger",
    "LedgerError",
    "Received",
    "Recorded",
    "StatusRow",
    "UnattributedFile",
    "indicator_figures",
    "intake",
    "ledger_url",
    "open_ledger",
    "status",
]
