"""What consolidation takes from the ledger: per region, the latest accepted submission, and
for regions with nothing accepted, their latest (rejected) submission."""

from __future__ import annotations

from cos_xl.periods import Period
from cos_xl.submission import Submission


def consolidation_inputs(ledger, period: Period | str
                         ) -> tuple[dict[str, Submission], dict[str, Submission]]:
    """(accepted, rejected) for :func:`cos_xl.consolidate.consolidate_period`."""
    accepted = ledger.latest_accepted(period)
    rejected: dict[str, Submission] = {}
    for sub in ledger.submissions(period):  # by region and version: the last one stays
        if sub.region_code not in accepted:
            rejected[sub.region_code] = sub
    return accepted, rejected
