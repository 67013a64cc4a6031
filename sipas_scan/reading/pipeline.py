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
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import cv2

from sipas_scan.errors import LedgerError
from sipas_scan.printing.households import Household
from sipas_scan.printing.ledger import Ledger, check_ledger
from sipas_scan.progress import progress_bar
from sipas_scan.reading.forms import IssuedForms, PageRecord, assemble
from sipas_scan.reading.page import UNREADABLE_IDENTIFIED, PageResult, ReadOptions, read_page, survey_and_layout
from sipas_scan.reading.sources import Source, SourceError, find_sources, load_page, open_source, printable
from sipas_scan.store.db import Store, new_claim_owner, rebuild_forms

log = logging.getLogger(__name__)


@dataclass
class ScanSummary:
    files: int = 0
    files_skipped: int = 0
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the file of the same content read)
    pages_read: int = 0
    pages_retried: int = 0    # quarantined pages read again (a cause that can change)
    verified: int = 0         # pages of this run whose code verified
    failed_verification: int = 0
    wrong_secret: bool = False  # see scan_inputs
    quarantined: Counter = field(default_factory=Counter)
    forms: Counter = field(default_factory=Counter)
    # Files another scan run on the same database was reading (its process id):
    # left to it, never read twice.
    elsewhere: list[tuple[str, int]] = field(default_factory=list)
    forms_left_to_other_run: bool = False  # pages kept arriving: the other run derives the forms at its end
    ledger_serials: int | None = None      # serials in the ledger given (checked before reading)
    seconds: float = 0.0


_OPTIONS: ReadOptions | None = None

# Quarantines whose cause can change: a code that fails verification (a
# wrong secret), a page that could not be decoded (a file that vanished or
# changed mid-run). Read again on every run that is given their file.
RETRY_ALWAYS = ("forged-code", "unreadable-page")
# What a worker that died leaves: the page is quarantined, never retried
# unless asked (``retry_quarantined``), so a page that kills its reader
# cannot block every run.
WORKER_DIED = "read-error"


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


class _TaskQueue:
    """Tasks made on demand (a file is claimed only when its pages are next
    in line), with room to put back a task a broken pool never took."""

    def __init__(self, tasks: Iterable[tuple[Source, int, int]]):
        self._tasks = iter(tasks)
        self._back: deque[tuple[Source, int, int]] = deque()

    def take(self) -> tuple[Source, int, int] | None:
        return self._back.popleft() if self._back else next(self._tasks, None)

    def put_back(self, task: tuple[Source, int, int]) -> None:
        self._back.appendleft(task)


def _results(tasks: Iterable[tuple[Source, int, int]], options: ReadOptions, workers: int) -> Iterator:
    if workers <= 1:
        _init_worker(options)
        yield from map(_read_task, tasks)
        return
    queue = _TaskQueue(tasks)
    while (in_flight := (yield from _run_pool(queue, options, workers))) is not None:
        # The pool broke: a worker died (out of memory, a crash in native
        # code) and every page in flight failed with it. Read those again one
        # at a time, each alone in its worker, so the page that kills its
        # reader is known and quarantined; then go on in parallel.
        yield from _run_alone(in_flight, options)


def _run_pool(queue: _TaskQueue, options: ReadOptions, workers: int):
    """Read pages off ``queue`` in a pool until it is empty (returns None) or
    the pool breaks (returns the pages in flight, unread)."""
    # A bounded window of pages in flight: results wait for the single writer,
    # and an unbounded map would let a 2,000-page file pile up in memory.
    window = workers * 4
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(options, True))
    pending: deque[tuple[tuple[Source, int, int], Future]] = deque()
    try:
        while True:
            broken = False
            while len(pending) < window and (task := queue.take()) is not None:
                try:
                    pending.append((task, pool.submit(_read_task, task)))
                except BrokenProcessPool:
                    queue.put_back(task)
                    broken = True
                    break
            if not pending:
                return [] if broken else None
            task, future = pending[0]
            try:
                result = future.result()
            except BrokenProcessPool:
                unread = []
                for task, future in pending:
                    if future.done() and not future.cancelled() and future.exception() is None:
                        yield future.result()
                    else:
                        unread.append(task)
                log.warning("a reading process died; reading the %d pages in flight again, one at a time", len(unread))
                return unread
            pending.popleft()
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_alone(tasks: list[tuple[Source, int, int]], options: ReadOptions) -> Iterator:
    """Read each page alone in a one-worker pool; a page whose worker dies is
    quarantined (``read-error``) and the pool restarted for the next."""
    pool = None
    try:
        for task in tasks:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1, initializer=_init_worker, initargs=(options, True))
            try:
                yield pool.submit(_read_task, task).result()
            except BrokenProcessPool:
                source, source_id, index = task
                log.warning("page %d of %s killed its reading process", index + 1, printable(source.path))
                yield source_id, index, PageResult(
                    "quarantined", WORKER_DIED, f"{printable(source.path)} page {index + 1}: the reading process "
                    "died on this page (out of memory or a crash); the rest of the batch was read")
                pool.shutdown(wait=True, cancel_futures=True)
                pool = None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _issued(ledger_path: Path | None, store: Store, only: tuple[str, str] | None = None) -> IssuedForms:
    """Who each serial was issued to: from the ledger; without one, what the
    forms already record (a household, or not-issued where it was flagged)
    and unknown for the rest."""
    if ledger_path is not None:
        if not Path(ledger_path).is_file():  # opening would create an empty one and flag every form
            raise LedgerError(f"{ledger_path}: no such ledger (moved or deleted?)")
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
        "SELECT p.id, s.path, p.page_index, p.status, p.reason, p.detail, p.survey, p.serial, p.page_no, p.readings"
        " FROM pages p JOIN sources s ON s.id = p.source_id"
        f" WHERE (p.status = 'ok' OR p.reason IN ({', '.join('?' * len(UNREADABLE_IDENTIFIED))})){where}"
        " ORDER BY p.survey, p.serial, p.page_no, p.id", (*UNREADABLE_IDENTIFIED, *args))
    for page_id, path, index, status, reason, detail, survey, serial, page_no, raw in rows:
        readings = json.loads(raw)
        fields = [{k: f[k] for k in ("field_id", "value", "confidence", "flags")} for f in readings.get("fields", [])]
        comments = [{k: c[k] for k in ("field_id", "has_writing", "text", "mean_confidence", "flags")}
                    for c in readings.get("comments", [])]
        origin = f"{Path(path).name} p. {index + 1}"
        verified = readings.get("identified_by", "code") == "code"
        yield PageRecord(page_id, origin, survey, serial, page_no, fields, comments, verified=verified,
                         quarantined="" if status == "ok" else reason,
                         # A person gave this page its identity: the form says so.
                         assigned=detail if reason == "assigned" and not verified else "")


def rebuild(store: Store, ledger_path: Path | None) -> Counter:
    """Derive forms from every stored page, one form at a time; returns the
    count per status. Pages and decisions are read in one snapshot, and each
    form records the last decision that snapshot held: a decision taken
    while this runs leaves its form stale, and ``rederive_stale`` finds it."""
    return _rebuild(store, ledger_path)[0]


# How often a derivation is made again because pages arrived meanwhile,
# before it is left to the run still storing them.
REBUILD_ATTEMPTS = 3


def _rebuild(store: Store, ledger_path: Path | None, owner: str | None = None) -> tuple[Counter, bool]:
    """``rebuild``, safe beside other scan runs: a derivation is stored only
    if no page was stored or forgotten since its snapshot; else it is made
    again, or, while another run (not ``owner``) is still storing pages, left
    to that run, which derives the forms again when it ends. Returns the
    counts and whether the derivation was stored."""
    attempt = 0
    while True:
        attempt += 1
        surveys, counts = {}, {}
        statuses: Counter = Counter()
        forms = []
        with store.snapshot():
            mark = store.pages_mark()
            through = store.last_decision_id()
            issued = _issued(ledger_path, store)
            decisions = store.decisions()
            for (survey_id, _), group in groupby(_page_records(store), key=lambda p: (p.survey, p.serial)):
                if survey_id not in surveys:
                    survey, layout = survey_and_layout(survey_id)
                    surveys[survey_id], counts[survey_id] = survey, layout.page_count
                for form in assemble(list(group), surveys, counts, issued, decisions):
                    statuses[form.status] += 1
                    forms.append(form)
        if rebuild_forms(store, forms, through=through, pages_mark=mark):
            return statuses, True
        if attempt >= REBUILD_ATTEMPTS and store.others_reading(owner or ""):
            return statuses, False
        log.info("pages were stored while the forms were derived: deriving them again")


def rebuild_form(store: Store, survey_id: str, serial: str, ledger_path: Path | None = None) -> str:
    """Derive one form again (after a review decision); returns its status.
    Reads and writes in one write transaction, or in the caller's, so the
    decision and the form's new status are stored together."""
    with store.transaction():
        issued = _issued(ledger_path, store, (survey_id, serial))
        survey, layout = survey_and_layout(survey_id)
        pages = list(_page_records(store, (survey_id, serial)))
        forms = assemble(pages, {survey_id: survey}, {survey_id: layout.page_count}, issued,
                         store.decisions((survey_id, serial)))
        rebuild_forms(store, forms, only=(survey_id, serial))
    return forms[0].status if forms else ""


def rederive_stale(store: Store, ledger_path: Path | None = None) -> int:
    """Derive again every form whose derivation is older than a decision on
    it (a server killed mid-way by an older version, a full rebuild that ran
    while reviewers worked); returns how many there were."""
    stale = store.stale_forms()
    for survey_id, serial in stale:
        rebuild_form(store, survey_id, serial, ledger_path)
    return len(stale)


def _same_file(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop resolves nowhere; open_source names it
        return path.absolute()


def _stored_name(path: Path) -> str:
    """A failed file's name as stored: absolute (it is listed later, from any
    folder), without following links (a dangling link is named as given),
    printable."""
    return printable(path.absolute())


@dataclass
class _Run:
    """What one scan run keeps while it claims files and reads their pages."""

    store: Store
    owner: str
    retry_quarantined: bool
    summary: ScanSummary
    remaining: dict[int, int] = field(default_factory=dict)    # source id -> pages still to store
    retried: set[tuple[int, int]] = field(default_factory=set)  # (source id, page index) read again
    failed_new: int = 0  # pages failing verification that were not read again (see wrong_secret)
    # The last page stored when the run began: pages stored since (by a run
    # going on beside this one) are not read again.
    last_page_before: int = 0

    def tasks(self, opened: list[tuple[Source, int]]) -> Iterator[tuple[Source, int, int]]:
        """The pages to read, file by file, each file claimed just before its
        pages are handed out; files another live run holds are left to it and
        looked at once more at the end (a run that died leaves its claims)."""
        held: list[tuple[Source, int, int]] = []  # (source, page count, pid of the run holding it)
        for source, count in opened:
            pid = yield from self._claimed_tasks(source, count)
            if pid:
                held.append((source, count, pid))
        for source, count, _ in held:
            pid = yield from self._claimed_tasks(source, count)
            if pid:
                log.info("%s is being read by another scan run (process %d)", printable(source.path), pid)
                self.summary.elsewhere.append((printable(source.path), pid))

    def _claimed_tasks(self, source: Source, count: int):
        """Claim the file and yield its pages not stored yet; returns the
        process id of the run holding it when another live run does."""
        store, summary = self.store, self.summary
        holder = store.claim_source(source.sha256, self.owner)
        if holder is not None:
            return holder.pid
        state = store.source_state(source.sha256)
        if state:
            again = store.forget_quarantined(state[0], None if self.retry_quarantined else RETRY_ALWAYS,
                                             self.last_page_before)
            if again:
                summary.pages_retried += len(again)
                self.retried.update((state[0], index) for index in again)
                state = store.source_state(source.sha256)
        if state and state[1] == "done":
            summary.files_skipped += 1
            store.finish_source(state[0])  # drops the claim
            return 0
        source_id = state[0] if state else store.add_source(source.path, source.sha256, source.size, source.kind,
                                                             count)
        stored = state[2] if state else set()
        todo = [i for i in range(count) if i not in stored]
        self.remaining[source_id] = len(todo)
        if not todo:
            store.finish_source(source_id)
        for index in todo:
            yield source, source_id, index
        return 0


def scan_inputs(inputs: list[Path], db_path: Path, options: ReadOptions, *, workers: int | None = None,
                ledger_path: Path | None = None, retry_quarantined: bool = False) -> ScanSummary:
    """Read every page not stored yet. A file that cannot be read becomes a
    one-line reason in ``failed_files`` (and ``source_failures``) and the
    batch goes on; a file given twice (the same content under two names) is
    read once. Quarantined pages whose cause can change are read again;
    with ``retry_quarantined``, every quarantined page no reviewer decided.
    The ledger, when given, is checked before anything is read. Runs on one
    database at once share the files: each file is claimed by one run."""
    started = time.perf_counter()
    summary = ScanSummary()
    if ledger_path is not None:
        summary.ledger_serials = check_ledger(ledger_path)
    files, missing = find_sources(inputs)
    with Store(db_path) as store:
        run = _Run(store, new_claim_owner(), retry_quarantined, summary, last_page_before=store.pages_mark()[0])
        try:
            _read_files(run, files, missing, options, workers)
            # Every page of the run whose code was read failed verification: most
            # likely not the secret the forms were printed with. Not when the only
            # failures are forged pages read again beside pages that verified before.
            summary.wrong_secret = summary.failed_verification > 0 and summary.verified == 0 and (
                run.failed_new > 0 or not store.any_page_verified())
            summary.forms, stored = _rebuild(store, ledger_path, run.owner)
            summary.forms_left_to_other_run = not stored
        finally:
            store.release_claims(run.owner)
    summary.seconds = time.perf_counter() - started
    return summary


def _read_files(run: _Run, files: list[Path], missing: list[tuple[Path, str]], options: ReadOptions,
                workers: int | None) -> None:
    store, summary = run.store, run.summary
    for path, reason in missing:
        summary.failed_files.append((printable(path), reason))
        store.record_source_failure(_stored_name(path), "not-reached", f"{_stored_name(path)}: {reason}")
    opened: list[tuple[Source, int]] = []
    put_right: list[str] = []  # files that opened, whatever an earlier run said of them
    seen_paths: set[Path] = set()
    seen_content: dict[str, str] = {}
    for path in files:
        if _same_file(path) in seen_paths:  # the same file named twice (a folder and a file in it)
            continue
        seen_paths.add(_same_file(path))
        summary.files += 1
        try:
            source, count = open_source(path)
        except SourceError as exc:
            store.record_source_failure(_stored_name(path), exc.reason, str(exc))
            summary.failed_files.append((printable(path), str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one bad file must never take the batch down
            log.debug("opening %s", printable(path), exc_info=True)
            detail = f"{printable(path)}: cannot read ({type(exc).__name__}: {exc})".replace("\n", " ")
            store.record_source_failure(_stored_name(path), "unreadable", detail)
            summary.failed_files.append((printable(path), detail))
            continue
        put_right.append(_stored_name(path))
        if source.sha256 in seen_content:
            summary.files_skipped += 1
            summary.duplicates.append((printable(path), seen_content[source.sha256]))
            continue
        seen_content[source.sha256] = printable(path)
        opened.append((source, count))
    # A folder a file was found in could be read this time.
    put_right.extend(sorted({printable(folder) for path in files for folder in path.absolute().parents}))
    store.clear_source_failures(put_right)
    # For the progress bar only: pages not stored yet when the run starts.
    total = 0
    for source, count in opened:
        state = store.source_state(source.sha256)
        total += 0 if state and state[1] == "done" else count - len(state[2] if state else ())
    with progress_bar("Reading pages", total) as advance:
        for source_id, index, result in _results(run.tasks(opened), options, workers or os.cpu_count() or 1):
            store.add_page(source_id, index, result)
            summary.pages_read += 1
            if result.status != "ok":
                summary.quarantined[result.reason] += 1
            if result.reason == "forged-code":
                summary.failed_verification += 1
                run.failed_new += (source_id, index) not in run.retried
            elif result.status == "ok" and result.identified_by == "code":
                summary.verified += 1
            run.remaining[source_id] -= 1
            if run.remaining[source_id] == 0:
                store.finish_source(source_id)
            advance()
