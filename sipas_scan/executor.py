"""Where work runs in parallel: one executor for every stage that fans out.

``Executor(workers)`` runs a function over a stream of tasks and yields the
results in the order of the tasks, calling ``on_result`` on each as it is
yielded, so the caller (the single writer, the progress bar) stays in this
process. ``workers=1`` runs every task here, serially (tests, debugging,
tiny batches); more runs them in a ``ProcessPoolExecutor`` with a bounded
window of tasks in flight, so tasks are made (and files claimed) only when
their turn comes and results never pile up in memory. ``workers=None`` uses
every core.

A task that raises stops the run with its own exception (its type kept,
so errors keep their exit codes), a note added that names the task; the
pool is shut down and pending tasks cancelled before it propagates, so
nothing is left running. A worker process that dies (out of memory, a crash
in native code) breaks the whole pool and every task in flight with it: the
tasks that had not finished are run again one at a time, each alone in a
fresh one-worker pool, so the task that kills its worker is known; it
raises ``WorkerDied`` naming the task or, when ``on_worker_death`` is
given, yields what that returns for it, and the rest of the stream goes on
in a new pool.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

TASKS_IN_FLIGHT_PER_WORKER = 4  # enough to keep every worker busy while the caller writes


class WorkerDied(RuntimeError):
    """The process running a task died before the task finished."""

    def __init__(self, task: str):
        super().__init__(f"{task}: its worker process died (out of memory or a crash)")
        self.task = task


def default_workers() -> int:
    return os.cpu_count() or 1


def _stop_opencv_threads() -> None:
    """Workers are forked: a process forked while OpenCV's thread pool is
    alive in its parent can wait forever on a lock one of those threads
    held. One worker per core needs no OpenCV threads, in the parent or the
    workers (which inherit the setting)."""
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:
        cv2.setNumThreads(1)


@contextmanager
def _pool(workers: int, initializer: Callable[..., None] | None, initargs: tuple) -> Iterator[ProcessPoolExecutor]:
    """A process pool that, however its block ends, cancels the tasks not
    yet started and waits for the running ones (a plain ``with`` would run
    every queued task first)."""
    _stop_opencv_threads()
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs) as pool:
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class _Task(Generic[T]):
    item: T
    name: str


def _succeeded(future: Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


@dataclass(frozen=True)
class Executor:
    """``workers``: processes to run tasks in (None: every core; 1: this
    process, serially). ``initializer(*initargs)`` prepares a process for
    its tasks: it runs once in each worker process, or once here in serial
    mode (it may tell the two apart by its arguments)."""

    workers: int | None = None
    initializer: Callable[..., None] | None = None
    initargs: tuple = ()

    @property
    def worker_count(self) -> int:
        return max(1, self.workers or default_workers())

    @property
    def serial(self) -> bool:
        return self.worker_count == 1

    def map(
        self,
        fn: Callable[[T], R],
        items: Iterable[T],
        *,
        name: Callable[[T], str] = repr,
        on_result: Callable[[R], Any] | None = None,
        on_worker_death: Callable[[T], R] | None = None,
    ) -> Iterator[R]:
        """``fn(item)`` for every item, in the items' order. ``items`` is
        consumed lazily. ``fn`` must be picklable (a module-level function
        or a ``functools.partial`` of one) unless the executor is serial.
        ``name(item)`` names a task in the note added to its exception."""
        tasks = (_Task(item, name(item)) for item in items)
        results = self._serial(fn, tasks) if self.serial else self._parallel(fn, tasks, on_worker_death)
        for result in results:
            if on_result is not None:
                on_result(result)
            yield result

    def run(self, fn: Callable[[T], R], items: Iterable[T], **kwargs: Any) -> list[R]:
        """``map`` to the end: every result, in order."""
        return list(self.map(fn, items, **kwargs))

    def _serial(self, fn: Callable[[T], R], tasks: Iterator[_Task[T]]) -> Iterator[R]:
        if self.initializer is not None:
            self.initializer(*self.initargs)
        for task in tasks:
            try:
                result = fn(task.item)
            except Exception as exc:
                exc.add_note(f"in task {task.name}")
                raise
            yield result

    def _parallel(self, fn: Callable[[T], R], tasks: Iterator[_Task[T]], on_worker_death: Callable[[T], R] | None) -> Iterator[R]:
        backlog: deque[_Task[T]] = deque()  # tasks a broken pool never took, before the rest
        while True:
            in_flight = yield from self._until_broken(fn, tasks, backlog)
            if in_flight is None:
                return
            if not in_flight and backlog:
                # The pool broke before taking a task (its workers die on
                # starting?): the next task alone tells whether it is to blame.
                yield self._alone(fn, backlog.popleft(), on_worker_death)
                continue
            unfinished = [task for task, future in in_flight if not _succeeded(future)]
            log.warning("a worker process died; running the %d unfinished tasks again, one at a time", len(unfinished))
            for task, future in in_flight:
                yield future.result() if _succeeded(future) else self._alone(fn, task, on_worker_death)

    def _until_broken(
        self, fn: Callable[[T], R], tasks: Iterator[_Task[T]], backlog: deque[_Task[T]]
    ) -> Generator[R, None, list[tuple[_Task[T], Future]] | None]:
        """Run tasks in one pool, yielding results in order, until there are
        none left (returns None) or the pool breaks (returns the tasks in
        flight from the first that did not finish, with their futures)."""
        window = self.worker_count * TASKS_IN_FLIGHT_PER_WORKER
        pending: deque[tuple[_Task[T], Future]] = deque()
        with _pool(self.worker_count, self.initializer, self.initargs) as pool:
            while True:
                broken = False
                while len(pending) < window and (task := backlog.popleft() if backlog else next(tasks, None)) is not None:
                    try:
                        pending.append((task, pool.submit(fn, task.item)))
                    except BrokenProcessPool:
                        backlog.appendleft(task)
                        broken = True
                        break
                if not pending:
                    return [] if broken else None  # a broken pool took none: start another
                task, future = pending[0]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    return list(pending)
                except Exception as exc:
                    exc.add_note(f"in task {task.name}")
                    raise
                pending.popleft()
                yield result

    def _alone(self, fn: Callable[[T], R], task: _Task[T], on_worker_death: Callable[[T], R] | None) -> R:
        """One task in a fresh one-worker pool: whether it kills its worker is then certain."""
        with _pool(1, self.initializer, self.initargs) as pool:
            try:
                return pool.submit(fn, task.item).result()
            except BrokenProcessPool:
                if on_worker_death is None:
                    raise WorkerDied(task.name) from None
                log.warning("%s: its worker process died", task.name)
                return on_worker_death(task.item)
            except Exception as exc:
                exc.add_note(f"in task {task.name}")
                raise
