"""Pages read in worker processes: ``read_pages`` runs ``read_page`` on
each page it is given and yields the results in order, for the single writer
(sipas_scan.scan) to store. A page that fails, or kills its worker, becomes a
quarantined page; the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import cv2

from sipas_scan.executor import Executor
from sipas_scan.reading.page import PageResult, ReadOptions, read_page
from sipas_scan.reading.sources import Source, SourceError, load_page, printable

log = logging.getLogger(__name__)


_OPTIONS: ReadOptions | None = None

# What a worker that died leaves: the page is quarantined, never retried
# unless asked (``retry_quarantined``), so a page that kills its reader
# cannot block every run.
WORKER_DIED = "read-error"

ReadTask = tuple[Source, int, int]  # (source, source id, page index)
ReadResult = tuple[int, int, PageResult]  # (source id, page index, result)


def _init_worker(options: ReadOptions, single_threaded: bool = False) -> None:
    global _OPTIONS
    _OPTIONS = options
    if single_threaded:
        # One process per core already; OpenCV's own threads would only fight them.
        cv2.setNumThreads(1)


def _read_task(task: ReadTask) -> ReadResult:
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


def _task_name(task: ReadTask) -> str:
    source, _, index = task
    return f"{printable(source.path)} page {index + 1}"


def _worker_died(task: ReadTask) -> ReadResult:
    """The page that killed its reading process (out of memory, a crash in
    native code), quarantined; the rest of the batch is read."""
    _, source_id, index = task
    message = f"{_task_name(task)}: the reading process died on this page (out of memory or a crash)"
    return source_id, index, PageResult("quarantined", WORKER_DIED, f"{message}; the rest of the batch was read")


def read_pages(tasks: Iterable[ReadTask], options: ReadOptions, workers: int) -> Iterator[ReadResult]:
    """(source id, page index, result) of each (source, source id, page
    index) task, in order; ``workers`` processes (1: in this process).
    ``tasks`` is consumed lazily, a few pages ahead of the results, so a file
    is claimed only when its pages are next in line."""
    executor = Executor(workers, initializer=_init_worker, initargs=(options, workers > 1))
    yield from executor.map(_read_task, tasks, name=_task_name, on_worker_death=_worker_died)
