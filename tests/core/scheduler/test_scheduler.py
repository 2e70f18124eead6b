"""AsyncIOScheduler behaviour on the MemoryStore."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from asyncz.events import constants as ev
from asyncz.exceptions import ConflictIdError, TaskLookupError
from asyncz.schedulers import AsyncIOScheduler
from asyncz.triggers import DateTrigger, IntervalTrigger
from support.scheduling import RECORDER, Recorder, eventually


def now() -> datetime:
    return datetime.now(UTC)


def test_interval_task_fires_repeatedly() -> None:
    calls: list[float] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        scheduler.add_task(lambda: calls.append(time.monotonic()), "interval", seconds=0.05)
        await eventually(lambda: len(calls) >= 4)
        scheduler.shutdown()

    asyncio.run(main())
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert all(gap > 0.02 for gap in gaps)


def test_task_without_trigger_runs_once_now_and_is_removed() -> None:
    calls: list[int] = []
    recorder = Recorder()

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_listener(recorder.listener)
        scheduler.start()
        task = scheduler.add_task(calls.append, args=[1])
        await eventually(lambda: recorder.codes(ev.TASK_EXECUTED))
        await asyncio.sleep(0.05)
        assert scheduler.get_task(task.id) is None
        scheduler.shutdown()

    asyncio.run(main())
    assert calls == [1]
    assert [e.task_id for e in recorder.codes(ev.TASK_REMOVED)] != []  # type: ignore[attr-defined]


def test_late_run_beyond_grace_is_reported_missed_not_run() -> None:
    calls: list[int] = []
    recorder = Recorder()

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_listener(recorder.listener, ev.TASK_MISSED | ev.TASK_EXECUTED)
        scheduler.start()
        scheduler.add_task(
            calls.append,
            DateTrigger(now() - timedelta(seconds=10)),
            args=[1],
            mistrigger_grace_time=1,
        )
        await eventually(lambda: recorder.codes(ev.TASK_MISSED))
        scheduler.shutdown()

    asyncio.run(main())
    assert calls == []


@pytest.mark.parametrize(("coalesce", "expected"), [(True, 1), (False, 6)])
def test_coalesce_merges_runs_missed_while_down(coalesce: bool, expected: int) -> None:
    calls: list[int] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        start = now() - timedelta(seconds=5.5)
        scheduler.add_task(
            calls.append,
            IntervalTrigger(seconds=1, start_at=start),
            args=[1],
            next_run_time=start,
            coalesce=coalesce,
            mistrigger_grace_time=None,
        )
        await eventually(lambda: len(calls) >= expected)
        await asyncio.sleep(0.1)
        scheduler.shutdown()

    asyncio.run(main())
    assert len(calls) == expected


def test_max_instances_skips_overlapping_runs() -> None:
    running = 0
    peak = 0
    recorder = Recorder()

    async def slow() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.3)
        running -= 1

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_listener(recorder.listener, ev.TASK_MAX_INSTANCES)
        scheduler.start()
        scheduler.add_task(slow, "interval", seconds=0.05, max_instances=1)
        await eventually(lambda: len(recorder.events) >= 2)
        scheduler.shutdown(wait=False)

    asyncio.run(main())
    assert peak == 1


def test_pause_and_resume_the_scheduler() -> None:
    calls: list[int] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start(paused=True)
        scheduler.add_task(calls.append, "interval", seconds=0.02, args=[1])
        await asyncio.sleep(0.2)
        assert calls == []
        scheduler.resume()
        await eventually(lambda: len(calls) >= 2)
        scheduler.pause()
        await asyncio.sleep(0.05)
        seen = len(calls)
        await asyncio.sleep(0.2)
        assert len(calls) == seen
        scheduler.shutdown()

    asyncio.run(main())


def test_pause_resume_and_run_a_task_now() -> None:
    calls: list[str] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        task = scheduler.add_task(calls.append, "interval", hours=1, args=["run"], id="hourly")
        first = task.next_run_time
        paused = scheduler.pause_task("hourly")
        assert paused.next_run_time is None
        stored = scheduler.get_task("hourly")
        assert stored is not None and stored.schedule_state == "paused"
        scheduler.run_task("hourly")
        await eventually(lambda: calls == ["run"])
        resumed = scheduler.resume_task("hourly")
        assert resumed is not None and resumed.next_run_time is not None
        assert resumed.next_run_time >= first  # type: ignore[operator]
        scheduler.shutdown()

    asyncio.run(main())


def test_listener_masks_filter_events() -> None:
    recorder = Recorder()

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_listener(recorder.listener, ev.TASK_EXECUTED)
        scheduler.start()
        scheduler.add_task(lambda: None)
        await eventually(lambda: len(recorder.events) == 1)
        scheduler.shutdown()

    asyncio.run(main())
    assert {e.code for e in recorder.events} == {ev.TASK_EXECUTED}


def test_failing_task_reports_error_with_traceback() -> None:
    recorder = Recorder()

    def boom() -> None:
        raise RuntimeError("boom")

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_listener(recorder.listener, ev.TASK_ERROR)
        scheduler.start()
        scheduler.add_task(boom)
        await eventually(lambda: recorder.events)
        scheduler.shutdown()

    asyncio.run(main())
    event = recorder.events[0]
    assert isinstance(event.exception, RuntimeError)  # type: ignore[attr-defined]
    assert "boom" in event.traceback  # type: ignore[attr-defined]


def test_decorator_mode_and_string_references() -> None:
    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        hits: list[int] = []

        @scheduler.add_task(trigger="interval", seconds=0.02)
        def decorated() -> None:
            hits.append(1)

        scheduler.add_task("support.scheduling:record_call", args=["by-ref"])
        await eventually(lambda: len(hits) >= 2 and ("by-ref",) in RECORDER.calls)
        assert decorated() is None  # the function stays callable
        scheduler.shutdown()

    asyncio.run(main())


def test_argument_mismatch_fails_at_add_time() -> None:
    def needs_two(a: int, b: int) -> None: ...

    scheduler = AsyncIOScheduler(timezone="UTC")
    with pytest.raises(TypeError, match="arguments do not fit"):
        scheduler.add_task(needs_two, args=[1])


def test_tasks_added_before_start_wait_and_conflicts_are_reported() -> None:
    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_task(lambda: None, "interval", minutes=1, id="early")
        assert [t.id for t in scheduler.get_tasks()] == ["early"]
        assert scheduler.get_tasks()[0].pending
        scheduler.start()
        assert [t.id for t in scheduler.get_tasks()] == ["early"]
        assert not scheduler.get_tasks()[0].pending
        with pytest.raises(ConflictIdError):
            scheduler.add_task(lambda: None, "interval", minutes=1, id="early")
        scheduler.add_task(print, "interval", minutes=2, id="early", replace_existing=True)
        found = scheduler.get_task("early")
        assert found is not None and found.fn is print
        scheduler.delete_task("early")
        with pytest.raises(TaskLookupError):
            scheduler.delete_task("early")
        scheduler.shutdown()

    asyncio.run(main())


def test_scheduler_started_outside_a_loop_runs_its_own() -> None:
    done = threading.Event()
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start()
    try:
        scheduler.add_task(done.set)
        assert done.wait(5)
    finally:
        scheduler.shutdown()
    assert not scheduler.running


def test_update_and_reschedule() -> None:
    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.start()
        scheduler.add_task(print, "interval", hours=1, id="t", args=["a"])
        updated = scheduler.update_task("t", args=["b"], max_instances=2)
        assert updated.args == ("b",) and updated.max_instances == 2
        moved = scheduler.reschedule_task("t", trigger="cron", hour=3)
        assert moved.trigger is not None and "cron" in str(moved.trigger).lower()
        with pytest.raises(AttributeError):
            scheduler.update_task("t", colour="red")
        scheduler.shutdown()

    asyncio.run(main())
