"""Counts for the overview page: forms by status, per batch and per village,
returns against what was printed, reviewers' throughput."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sipas_scan.assembly.forms import IDENTIFIED_BY_HAND
from sipas_scan.printing.ledger import Ledger, LedgerLocation, NoLedger
from sipas_scan.store import results
from sipas_scan.store.db import Store


@dataclass
class Overview:
    statuses: Counter = field(default_factory=Counter)
    quarantined: Counter = field(default_factory=Counter)
    batches: dict[str, Counter] = field(default_factory=dict)
    villages: dict[tuple[str, str], Counter] = field(default_factory=dict)  # (commune, village) -> counts
    throughput: list[tuple[str, int, float]] = field(default_factory=list)  # reviewer, decisions, per hour
    by_hand: int = 0  # forms with a page a reviewer identified (its code damaged or lost), counted apart


def _hours_between(first: str, last: str) -> float:
    span = dt.datetime.fromisoformat(last) - dt.datetime.fromisoformat(first)
    # One decision alone still took a reviewer some time: count at least a minute.
    return max(span.total_seconds(), 60.0) / 3600


def overview(store: Store, ledger_path: LedgerLocation | None = None) -> Overview:
    result = Overview()
    result.statuses.update(results.count_by_status(store))
    result.by_hand = store.forms_flagged(IDENTIFIED_BY_HAND)
    result.quarantined.update(results.quarantined_by_reason(store))
    batches: dict[str, Counter] = defaultdict(Counter)
    for path, status, forms in results.forms_by_file_and_status(store):
        batches[Path(path).name][status] += forms
    for path, quarantined in results.quarantined_by_file(store):
        batches[Path(path).name]["quarantined"] += quarantined
    result.batches = dict(sorted(batches.items()))
    villages: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for commune, village, status, forms in results.forms_by_village_and_status(store):
        villages[(commune, village)][status] += forms
        villages[(commune, village)]["received"] += forms
    if ledger_path is not None:
        try:
            with Ledger(ledger_path, create=False) as ledger:
                for issued in ledger.all_issued().values():
                    household = issued.household
                    villages[(household.commune, household.village)]["printed"] += 1
        except NoLedger:
            pass  # moved away since the app started: the counts say nothing printed
    result.villages = dict(sorted(villages.items()))
    for reviewer, count, first, last in results.decisions_by_reviewer(store):
        result.throughput.append((reviewer, count, count / _hours_between(first, last)))
    return result
