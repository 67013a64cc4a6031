"""Pages read in worker processes: ``read_pages`` runs ``read_page`` on
each page it is given and yields the results in order, for the single writer
(sipas_scan.scan) to store. A page that fails, or kills its worker, becomes a
quarantined page; the batch goes on.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import cv2

from sipas_scan.reading.page import PageResult, ReadOptions, read_page
from sipas_scan.reading.sources import Source, SourceError, load_page, printable

log = logging.getLogger(__name__)


_OPTIONS: ReadOptions | None = None

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


def read_pages(tasks: Iterable[tuple[Source, int, int]], options: ReadOptions,
               workers: int) -> Iterator[tuple[int, int, PageResult]]:
    """(source id, page index, result) of each (source, source id, page
    index) task, in order; ``workers`` processes (1: in this process)."""
    yield from _results(tasks, options, workers)
