"""StoreWorker: calls in order on one thread, passes when their deadline comes."""

from __future__ import annotations

import threading
import time

import pytest

from asyncz.schedulers.store_worker import WARM_UP, StoreWorker, first_leg


class Passes:
    """An ``on_due`` that records when it ran and answers the delays it is given."""

    def __init__(self, *delays: float | None) -> None:
        self.delays = list(delays)
        self.times: list[float] = []
        self.threads: list[threading.Thread] = []
        self.ran = threading.Event()

    def __call__(self) -> float | None:
        self.times.append(time.monotonic())
        self.threads.append(threading.current_thread())
        self.ran.set()
        return self.delays.pop(0) if self.delays else None


def test_calls_run_in_order_on_the_worker_thread() -> None:
    worker = StoreWorker("test-worker", Passes())
    try:
        seen: list[tuple[int, threading.Thread]] = []
        futures = [
            worker.submit(lambda n: seen.append((n, threading.current_thread())), n)
            for n in range(20)
        ]
        for future in futures:
            future.result(timeout=5)
        assert [n for n, _ in seen] == list(range(20))
        assert {thread for _, thread in seen} == {worker.thread}
    finally:
        worker.stop()


def test_a_call_hands_its_exception_to_the_caller() -> None:
    worker = StoreWorker("test-worker", Passes())
    try:
        with pytest.raises(ZeroDivisionError):
            worker.submit(lambda: 1 / 0).result(timeout=5)
        assert worker.submit(lambda: 42).result(timeout=5) == 42  # the worker lives on
    finally:
        worker.stop()


def test_no_pass_runs_before_a_deadline_is_set() -> None:
    passes = Passes()
    worker = StoreWorker("test-worker", passes)
    try:
        worker.submit(lambda: None).result(timeout=5)
        assert not passes.ran.wait(0.1)
    finally:
        worker.stop()


def test_a_pass_runs_at_its_deadline_on_the_worker_thread() -> None:
    passes = Passes()
    worker = StoreWorker("test-worker", passes)
    try:
        deadline = time.monotonic() + 0.05
        worker.wake_at(deadline)
        assert passes.ran.wait(5)
        assert passes.times[0] >= deadline
        assert passes.threads == [worker.thread]
    finally:
        worker.stop()


def test_the_earlier_deadline_wins() -> None:
    passes = Passes()
    worker = StoreWorker("test-worker", passes)
    try:
        now = time.monotonic()
        worker.wake_at(now + 30)
        worker.wake_at(now + 0.02)
        worker.wake_at(now + 10)  # later than the one set: ignored
        assert passes.ran.wait(5)
        assert passes.times[0] - now < 5
        assert len(passes.times) == 1
    finally:
        worker.stop()


def test_the_pass_answer_schedules_the_next_pass() -> None:
    passes = Passes(0.02, 0.02, None)
    worker = StoreWorker("test-worker", passes)
    try:
        worker.wake_at(time.monotonic())
        deadline = time.monotonic() + 5
        while len(passes.times) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert len(passes.times) == 3  # the third answered None: no fourth
        assert passes.times[1] - passes.times[0] >= 0.02
    finally:
        worker.stop()


def test_a_due_pass_runs_before_the_next_queued_call() -> None:
    order: list[str] = []

    def on_due() -> None:
        order.append("pass")

    worker = StoreWorker("test-worker", on_due)
    try:
        gate = threading.Event()
        worker.submit(gate.wait, 5)
        worker.wake_at(time.monotonic())  # due while the first call still runs
        later = worker.submit(order.append, "call")
        gate.set()
        later.result(timeout=5)
        assert order == ["pass", "call"]
    finally:
        worker.stop()


def test_stop_runs_what_was_queued_then_refuses_calls() -> None:
    worker = StoreWorker("test-worker", Passes())
    done: list[int] = []
    for n in range(5):
        worker.submit(done.append, n)
    worker.stop(timeout=5)
    assert done == list(range(5))
    assert not worker.thread.is_alive()
    with pytest.raises(RuntimeError, match="stopped"):
        worker.submit(done.append, 99)


def test_long_waits_end_early_and_wait_the_rest() -> None:
    assert first_leg(None) is None
    assert first_leg(2 * WARM_UP) == 2 * WARM_UP  # short: one wait
    assert first_leg(1.0) == pytest.approx(1.0 - WARM_UP)
