"""The scan story: find the files, skip what is stored, read the new pages in
worker processes, store each page as it comes (one writer), then rebuild the
forms.

Parallelism lives here only: one executor runs ``_read_task`` per page; the
parent consumes results in order, writes them and moves the progress bar.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import cv2

from sipas_scan.printing.households import Household
from sipas_scan.printing.ledger import Ledger
from sipas_scan.progress import progress_bar
from sipas_scan.reading.forms import IssuedForms, PageRecord, assemble
from sipas_scan.reading.page import UNREADABLE_IDENTIFIED, PageResult, ReadOptions, read_page, survey_and_layout
from sipas_scan.reading.sources import Source, SourceError, find_sources, load_page, open_source
from sipas_scan.store.db import Store, rebuild_forms

log = logging.getLogger(__name__)


@dataclass
class ScanSummary:
    files: int = 0
    files_skipped: int = 0
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    pages_read: int = 0
    quarantined: Counter = field(default_factory=Counter)
    forms: Counter = field(default_factory=Counter)
    seconds: float = 0.0


_OPTIONS: ReadOptions | None = None


def _init_worker(options: ReadOptions, single_threaded: bool = False) -> None:
    global _OPTIONS
    _OPTIONS = options
    if single_threaded:
        # One process per core already; OpenCV's own threads would only fight them.
        cv2.setNumThreads(1)


def _read_task(task: tuple[Source, int, int]) -> tuple[int, int, PageResult]:
    """Read one page in a worker; any failure becomes a quarantined page."""
    source, source_id, index = task
    assert _OPTIONS is not None
    try:
        image = load_page(source, index)
        result = read_page(image.gray, image.dpi, _OPTIONS)
    except SourceError as exc:
        result = PageResult("quarantined", exc.reason, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bad page must never take the batch down
        log.exception("page %d of %s", index + 1, source.path)
        result = PageResult("quarantined", "read-error", f"{type(exc).__name__}: {exc}")
    return source_id, index, result


def _results(tasks: list[tuple[Source, int, int]], options: ReadOptions, workers: int) -> Iterator:
    if workers <= 1:
        _init_worker(options)
        yield from map(_read_task, tasks)
        return
    # A bounded window of pages in flight: results wait for the single writer,
    # and an unbounded map would let a 2,000-page file pile up in memory.
    window = workers * 4
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(options, True)) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.submit(_read_task, task))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _issued(ledger_path: Path | None, store: Store, only: tuple[str, str] | None = None) -> IssuedForms:
    """Who each serial was issued to: from the ledger; without one, what the
    forms already record (a household, or not-issued where it was flagged)
    and unknown for the rest."""
    if ledger_path is not None and Path(ledger_path).is_file():
        with Ledger(ledger_path) as ledger:
            return IssuedForms({key: form.household for key, form in ledger.all_issued(only).items()}, default=None)
    where, args = (" WHERE f.survey = ? AND f.serial = ?", only) if only else ("", ())
    rows = store.db.execute(
        "SELECT f.survey, f.serial, f.household_code, f.province, f.district, f.commune, f.village, f.issued,"
        " EXISTS (SELECT 1 FROM flags g WHERE g.survey = f.survey AND g.serial = f.serial AND g.reason = 'not-issued')"
        f" FROM forms f{where}", args).fetchall()
    households: dict = {}
    for survey, serial, code, province, district, commune, village, was_issued, flagged in rows:
        if was_issued:
            households[(survey, serial)] = Household(province, district, commune, village, code)
        elif flagged:
            households[(survey, serial)] = None
    return IssuedForms(households)


def _page_records(store: Store, only: tuple[str, str] | None = None) -> Iterator[PageRecord]:
    """Pages ordered by form, with only what forms need (no box metrics),
    streamed from the database so memory stays flat: the pages read, and the
    pages whose code verified but which could not be read (so a form knows
    of its unreadable copies)."""
    where, args = (" AND p.survey = ? AND p.serial = ?", only) if only else ("", ())
    rows = store.db.execute(
        "SELECT p.id, s.path, p.page_index, p.status, p.reason, p.survey, p.serial, p.page_no, p.readings FROM pages p"
        " JOIN sources s ON s.id = p.source_id"
        f" WHERE (p.status = 'ok' OR p.reason IN ({', '.join('?' * len(UNREADABLE_IDENTIFIED))})){where}"
        " ORDER BY p.survey, p.serial, p.page_no, p.id", (*UNREADABLE_IDENTIFIED, *args))
    for page_id, path, index, status, reason, survey, serial, page_no, raw in rows:
        readings = json.loads(raw)
        fields = [{k: f[k] for k in ("field_id", "value", "confidence", "flags")} for f in readings.get("fields", [])]
        comments = [{k: c[k] for k in ("field_id", "has_writing", "text", "mean_confidence", "flags")}
                    for c in readings.get("comments", [])]
        origin = f"{Path(path).name} p. {index + 1}"
        yield PageRecord(page_id, origin, survey, serial, page_no, fields, comments,
                         verified=readings.get("identified_by", "code") == "code",
                         quarantined="" if status == "ok" else reason)


def rebuild(store: Store, ledger_path: Path | None) -> Counter:
    """Derive forms from every stored page, one form at a time; returns the
    count per status."""
    issued = _issued(ledger_path, store)
    decisions = store.decisions()
    surveys, counts = {}, {}
    statuses: Counter = Counter()
    forms = []
    for (survey_id, _), group in groupby(_page_records(store), key=lambda p: (p.survey, p.serial)):
        if survey_id not in surveys:
            survey, layout = survey_and_layout(survey_id)
            surveys[survey_id], counts[survey_id] = survey, layout.page_count
        for form in assemble(list(group), surveys, counts, issued, decisions):
            statuses[form.status] += 1
            forms.append(form)
    rebuild_forms(store, forms)
    return statuses


def rebuild_form(store: Store, survey_id: str, serial: str, ledger_path: Path | None = None) -> str:
    """Derive one form again after a review decision; returns its status."""
    issued = _issued(ledger_path, store, (survey_id, serial))
    survey, layout = survey_and_layout(survey_id)
    pages = list(_page_records(store, (survey_id, serial)))
    forms = assemble(pages, {survey_id: survey}, {survey_id: layout.page_count}, issued,
                     store.decisions((survey_id, serial)))
    rebuild_forms(store, forms, only=(survey_id, serial))
    return forms[0].status if forms else ""


def scan_inputs(inputs: list[Path], db_path: Path, options: ReadOptions, *, workers: int | None = None,
                ledger_path: Path | None = None) -> ScanSummary:
    started = time.perf_counter()
    summary = ScanSummary()
    files, missing = find_sources(inputs)
    with Store(db_path) as store:
        for path, reason in missing:
            summary.failed_files.append((str(path), reason))
        tasks: list[tuple[Source, int, int]] = []
        remaining: dict[int, int] = {}
        for path in files:
            summary.files += 1
            try:
                source, count = open_source(path)
            except SourceError as exc:
                store.record_source_failure(path, exc.reason, str(exc))
                summary.failed_files.append((str(path), str(exc)))
                continue
            state = store.source_state(source.sha256)
            if state and state[1] == "done":
                summary.files_skipped += 1
                continue
            source_id = state[0] if state else store.add_source(path, source.sha256, source.size, source.kind, count)
            stored = state[2] if state else set()
            todo = [i for i in range(count) if i not in stored]
            remaining[source_id] = len(todo)
            tasks.extend((source, source_id, i) for i in todo)
            if not todo:
                store.finish_source(source_id)
        with progress_bar("Reading pages", len(tasks)) as advance:
            for source_id, index, result in _results(tasks, options, workers or os.cpu_count() or 1):
                store.add_page(source_id, index, result)
                summary.pages_read += 1
                if result.status != "ok":
                    summary.quarantined[result.reason] += 1
                remaining[source_id] -= 1
                if remaining[source_id] == 0:
                    store.finish_source(source_id)
                advance()
        summary.forms = rebuild(store, ledger_path)
    summary.seconds = time.perf_counter() - started
    return summary
