"""The scan story: find the files, skip what is stored, read the new pages in
worker processes (sipas_scan.reading.pipeline), store each page as it comes
(one writer), then derive the forms whose pages changed (sipas_scan.assembly).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sipas_scan.assembly.derive import derive_pending
from sipas_scan.assembly.placement import UNPLACED, Placement, StackPage, place
from sipas_scan.assembly.placement import disputed as disputed_pages
from sipas_scan.printing.codes import PageCode
from sipas_scan.printing.ledger import LedgerLocation, check_ledger
from sipas_scan.progress import progress_bar
from sipas_scan.reading.page import PageResult, ReadOptions, read_as
from sipas_scan.reading.pipeline import read_pages
from sipas_scan.reading.sources import Source, SourceError, find_sources, open_source, printable, reopen_page
from sipas_scan.store import results
from sipas_scan.store.db import Store, new_claim_owner

log = logging.getLogger(__name__)


@dataclass
class ScanSummary:
    files: int = 0
    files_skipped: int = 0
    failed_files: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (file, the file of the same content read)
    pages_read: int = 0
    pages_retried: int = 0  # quarantined pages read again (a cause that can change)
    verified: int = 0  # pages of this run whose code verified
    failed_verification: int = 0
    wrong_secret: bool = False  # see scan_inputs
    quarantined: Counter = field(default_factory=Counter)
    placed: int = 0  # pages without a readable code or serial given their form by their place in the file
    disputed: int = 0  # pages identified by their printed serial alone that their place in the file contradicts
    forms: Counter = field(default_factory=Counter)  # forms this run derived (its pages changed), per status
    forms_stored: Counter = field(default_factory=Counter)  # every form in the database after the run, per status
    # Files another scan run on the same database was reading (its process id):
    # left to it, never read twice.
    elsewhere: list[tuple[str, int]] = field(default_factory=list)
    ledger_serials: int | None = None  # serials in the ledger given (checked before reading)
    seconds: float = 0.0


# Quarantines whose cause can change: a code that fails verification (a
# wrong secret), a page that could not be decoded (a file that vanished or
# changed mid-run). Read again on every run that is given their file.
RETRY_ALWAYS = ("forged-code", "unreadable-page")


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
    remaining: dict[int, int] = field(default_factory=dict)  # source id -> pages still to store
    retried: set[tuple[int, int]] = field(default_factory=set)  # (source id, page index) read again
    failed_new: int = 0  # pages failing verification that were not read again (see wrong_secret)
    # The files of this run, read now or before: pages are placed by their
    # neighbours in each once every file is read (a run stopped before
    # that leaves it to the next run given the file).
    sources: set[int] = field(default_factory=set)
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
            again = store.forget_quarantined(state[0], None if self.retry_quarantined else RETRY_ALWAYS, self.last_page_before)
            if again:
                summary.pages_retried += len(again)
                self.retried.update((state[0], index) for index in again)
                state = store.source_state(source.sha256)
        if state and state[1] == "done":
            self.sources.add(state[0])
            summary.files_skipped += 1
            store.finish_source(state[0])  # drops the claim
            return 0
        source_id = state[0] if state else store.add_source(source.path, source.sha256, source.size, source.kind, count)
        self.sources.add(source_id)
        stored = state[2] if state else set()
        todo = [i for i in range(count) if i not in stored]
        self.remaining[source_id] = len(todo)
        if not todo:
            store.finish_source(source_id)
        for index in todo:
            yield source, source_id, index
        return 0


def scan_inputs(
    inputs: list[Path],
    db_path: Path | str,
    options: ReadOptions,
    *,
    workers: int | None = None,
    ledger_path: LedgerLocation | None = None,
    retry_quarantined: bool = False,
) -> ScanSummary:
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
            summary.disputed, stacks = _dispute_by_stack(store, run.sources)
            summary.placed = _place_by_stack(store, stacks, options)
            # Every page of the run whose code was read failed verification: most
            # likely not the secret the forms were printed with. Not when the only
            # failures are forged pages read again beside pages that verified before.
            summary.wrong_secret = (
                summary.failed_verification > 0 and summary.verified == 0 and (run.failed_new > 0 or not store.any_page_verified())
            )
            if ledger_path is not None:
                store.mark_unknown_issue_pending()  # derived by an earlier run given no ledger
            summary.forms = derive_pending(store, ledger_path)
            summary.forms_stored = Counter(results.count_by_status(store))
        finally:
            store.release_claims(run.owner)
    summary.seconds = time.perf_counter() - started
    return summary


def _dispute_by_stack(store: Store, source_ids: set[int]) -> tuple[int, dict[int, list[StackPage]]]:
    """Quarantine, for a person to assign, the pages of these files
    identified only by the serial printed on them that lie inside another
    form lacking their page (``assembly.placement.disputed``). Returns how
    many, and each file's pages as they stand then, for the placing that
    follows (each file read once more only where a page was disputed). Done
    for every file before any page is placed: the form a disputed page had
    joined may then take its own page, unread, from any file of the run."""
    disputed = 0
    stacks = {}
    for source_id in sorted(source_ids):
        stack = store.stack(source_id)
        if any(p.by_print for p in stack):
            found = disputed_pages(stack, store.read_page_numbers(_forms_in(stack)), _file_name(store, stack))
            changed = sum(store.dispute_page(page_id, why) for page_id, why in found)
            if changed:
                disputed += changed
                stack = store.stack(source_id)
        stacks[source_id] = stack
    return disputed, stacks


def _forms_in(stack: list[StackPage]) -> list[tuple[str, str]]:
    return sorted({(p.survey, p.serial) for p in stack if p.serial})


def _file_name(store: Store, stack: list[StackPage]) -> str:
    return Path(store.scanned_file(stack[0].page_id).path).name


def _place_by_stack(store: Store, stacks: dict[int, list[StackPage]], options: ReadOptions) -> int:
    """Give the pages of these files (``stacks``: each file's pages, by its
    id) that nothing printed on them identified their form from their
    neighbours (``assembly.placement``), once every file of the run is read
    (a form's other pages may come in any of them); returns how many were
    placed."""
    placed = 0
    for source_id, stack in sorted(stacks.items()):
        if not any(p.reason == UNPLACED and (p.page_no or p.likely_pages) for p in stack):
            continue
        name = _file_name(store, stack)
        for placement in place(stack, store.read_page_numbers(_forms_in(stack)), name, store.page_values(source_id)):
            reading = _read_as_placed(store, placement, options) if placement.unread else None
            if placement.unread and reading is None:
                continue
            placed += store.place_page(placement, reading)
    return placed


def _read_as_placed(store: Store, placement: Placement, options: ReadOptions) -> PageResult | None:
    """A page whose page was not known, read as the page its place in the
    stack says, from its file (the very file read); None when that file is
    gone or changed, or the page does not align as that page (its boxes and
    rules are not where that page has them)."""
    scanned = store.scanned_file(placement.page_id)
    try:
        image = reopen_page(scanned.path, scanned.page_index, scanned.sha256)
    except SourceError:
        return None
    result = read_as(image.gray, image.dpi, PageCode(placement.survey, placement.serial, placement.page_no), options)
    return result if result.status == "ok" else None


def _read_files(run: _Run, files: list[Path], missing: list[tuple[Path, str]], options: ReadOptions, workers: int | None) -> None:
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
        for source_id, index, result in read_pages(run.tasks(opened), options, workers or os.cpu_count() or 1):
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
