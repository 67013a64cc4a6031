"""The one executor: serial and process modes give the same ordered results,
a failing task is named and stops the run with nothing left running, a
worker that dies is pinned on its task."""

import multiprocessing
import os
import time
from functools import partial
from pathlib import Path

import pytest

from sipas_scan.executor import TASKS_IN_FLIGHT_PER_WORKER, Executor, WorkerDied, default_workers

MODES = [pytest.param(1, id="serial"), pytest.param(2, id="process")]


def slow_square(n: int) -> int:
    time.sleep(0.02 * (n % 3))  # later tasks often finish first
    return n * n


def fail_on(bad: int, started: Path, n: int) -> int:
    (started / str(n)).touch()
    if n == bad:
        raise ValueError(f"cannot take {n}")
    time.sleep(0.05)
    return n


def die_on(bad: int, n: int) -> int:
    if n == bad:
        os._exit(3)  # as a worker killed for memory or by a crash in native code goes: no exception
    time.sleep(0.01)
    return n


_prepared: list[str] = []


def prepare(tag: str) -> None:
    _prepared.append(tag)


def what_was_prepared(_: int) -> tuple[str, ...]:
    return tuple(_prepared)


def no_children_left() -> bool:
    return multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", MODES)
def test_results_come_in_order_and_the_callback_sees_each(workers):
    seen = []
    results = Executor(workers).run(slow_square, range(20), on_result=seen.append)
    assert results == seen == [n * n for n in range(20)]
    assert no_children_left()


def test_serial_and_process_modes_give_the_same_results():
    assert Executor(1).run(slow_square, range(12)) == Executor(2).run(slow_square, range(12))
    assert Executor(1).serial and not Executor(2).serial
    assert Executor().worker_count == default_workers() == (os.cpu_count() or 1)


@pytest.mark.parametrize("workers", MODES)
def test_a_failing_task_surfaces_named_and_nothing_is_left_running(workers, tmp_path):
    seen = []
    with pytest.raises(ValueError, match="cannot take 5") as raised:
        Executor(workers).run(partial(fail_on, 5, tmp_path), range(200), name=lambda n: f"page {n}", on_result=seen.append)
    assert "in task page 5" in raised.value.__notes__
    assert seen == [0, 1, 2, 3, 4]
    assert no_children_left()
    # Tasks not yet started were cancelled, not run to the end behind the error.
    started = len(list(tmp_path.iterdir()))
    assert started <= 6 + 2 * TASKS_IN_FLIGHT_PER_WORKER
    time.sleep(0.3)
    assert len(list(tmp_path.iterdir())) == started


def test_a_worker_that_dies_is_pinned_on_its_task_and_the_rest_goes_on():
    results = Executor(2).run(partial(die_on, 7), range(30), on_worker_death=lambda n: -n)
    assert results == [-7 if n == 7 else n for n in range(30)]
    assert no_children_left()


def test_a_worker_that_dies_without_a_fallback_stops_the_run_naming_its_task():
    with pytest.raises(WorkerDied, match="page 4: its worker process died") as raised:
        Executor(2).run(partial(die_on, 4), range(30), name=lambda n: f"page {n}")
    assert raised.value.task == "page 4"
    assert no_children_left()


def test_tasks_are_taken_only_as_the_window_needs_them():
    taken = []

    def items():
        for n in range(100):
            taken.append(n)
            yield n

    stream = Executor(2).map(slow_square, items())
    assert next(stream) == 0
    assert len(taken) <= 2 * TASKS_IN_FLIGHT_PER_WORKER + 1
    stream.close()  # a caller that stops early: the pool goes with it
    assert no_children_left()


@pytest.mark.parametrize("workers", MODES)
def test_the_initializer_prepares_each_process(workers):
    _prepared.clear()
    results = Executor(workers, initializer=prepare, initargs=("ready",)).run(what_was_prepared, range(4))
    assert set(results) == {("ready",)}
    # Serially it ran here, once; with processes, in the workers only.
    assert _prepared == (["ready"] if workers == 1 else [])


@pytest.mark.parametrize("workers", MODES)
def test_pages_are_read_as_their_turn_comes_and_one_that_cannot_be_is_quarantined(workers, tmp_path):
    """The scan's readers run on the executor: a 2,000-page file is taken a
    few pages ahead of the writer, never whole."""
    from sipas_scan.printing.codes import Secret
    from sipas_scan.reading.page import ReadOptions
    from sipas_scan.reading.pipeline import read_pages
    from sipas_scan.reading.sources import Source

    gone = Source(tmp_path / "gone.png", "0" * 64, 0, "image")  # deleted after it was listed
    taken = []

    def pages():
        for index in range(2000):
            taken.append(index)
            yield gone, 7, index

    results = read_pages(pages(), ReadOptions(Secret(b"k" * 32), run_ocr=False), workers)
    source_id, index, result = next(results)
    assert (source_id, index, result.status) == (7, 0, "quarantined")
    assert "gone.png" in result.detail and "\n" not in result.detail
    assert len(taken) <= (1 if workers == 1 else workers * TASKS_IN_FLIGHT_PER_WORKER + 1)
    results.close()
    assert no_children_left()
