"""Observability without patching the core: JSON log lines and a metrics listener.

* :class:`JsonLogFormatter` turns every log record into one JSON object per line, with the
  ``extra`` fields the scheduler attaches to each task run (``task_id``, ``scheduled``,
  ``outcome``, ``duration``, ``lateness``, ``executor``, ``store``). ``asyncz run
  --log-format json`` uses it; so can any ``logging`` setup.
* :class:`MetricsCollector` is a listener (``scheduler.add_listener(collector)``) counting
  runs, failures, misfires, ``max_instances`` skips and quarantined records, with
  histograms of lateness (start time minus scheduled time) and duration. Read totals with
  ``snapshot()``, or pass ``on_sample`` to forward every observation, labelled with the
  task id and store, to Prometheus, OpenTelemetry or anything else::

      counter = meter.create_counter("asyncz_task_runs")
      def forward(sample):
          if sample.name == "runs":
              counter.add(sample.value, dict(sample.labels))
      scheduler.add_listener(MetricsCollector(on_sample=forward))
"""

from __future__ import annotations

import json
import logging
import threading
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from asyncz.events import SchedulerEvent, TaskEvent, TaskExecutionEvent
from asyncz.events import constants as ev

#: Attributes every ``logging.LogRecord`` has; anything else came in through ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, every ``extra=`` field, and ``exception`` when there is one. Values JSON
    cannot hold are written as their ``str``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        return json.dumps(data, default=str, ensure_ascii=False)


#: Upper bounds (seconds) of the default histogram buckets; one more bucket takes the rest.
LATENESS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0)
DURATION_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 600.0)

COUNTERS = ("runs", "failures", "misfires", "max_instances_skips", "quarantined")


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation: a counter increment (``value`` 1) or a histogram value (seconds).

    ``name`` is one of :data:`COUNTERS`, ``"lateness_seconds"`` or ``"duration_seconds"``;
    ``labels`` hold ``task_id`` and ``store`` (and ``outcome`` for runs)."""

    name: str
    kind: Literal["counter", "histogram"]
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)


class Histogram:
    """Counts of observations per bucket, Prometheus-style (cumulative in snapshots)."""

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(set(bounds)) or not bounds:
            raise ValueError(f"histogram bounds must be increasing and distinct, got {bounds!r}")
        self.bounds = tuple(float(bound) for bound in bounds)
        self._counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self._counts[bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def snapshot(self) -> dict[str, Any]:
        """``{"buckets": {"0.01": n, ..., "+Inf": count}, "sum": s, "count": count}`` where
        each bucket counts the observations <= its bound."""
        buckets: dict[str, int] = {}
        running = 0
        for bound, count in zip(
            (*map(_bound_label, self.bounds), "+Inf"), self._counts, strict=True
        ):
            running += count
            buckets[bound] = running
        return {"buckets": buckets, "sum": self.sum, "count": self.count}


def _bound_label(bound: float) -> str:
    return f"{bound:g}"


class MetricsCollector:
    """A scheduler listener that keeps run metrics (see the module docstring).

    ``runs`` counts executions (successful or not), ``failures`` those that raised,
    ``misfires`` runs skipped for being later than ``mistrigger_grace_time``,
    ``max_instances_skips`` runs refused because the task was already running as often as
    allowed, ``quarantined`` records set aside as unreadable. Thread-safe; ``on_sample``
    is called outside the collector's lock, on the thread that dispatched the event.
    """

    #: The events the collector uses: ``scheduler.add_listener(collector, collector.mask)``.
    mask = (
        ev.TASK_EXECUTED
        | ev.TASK_ERROR
        | ev.TASK_MISSED
        | ev.TASK_MAX_INSTANCES
        | ev.TASK_QUARANTINED
    )

    def __init__(
        self,
        *,
        lateness_buckets: Sequence[float] = LATENESS_BUCKETS,
        duration_buckets: Sequence[float] = DURATION_BUCKETS,
        on_sample: Callable[[Sample], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._lateness = Histogram(lateness_buckets)
        self._duration = Histogram(duration_buckets)
        self.on_sample = on_sample

    def __call__(self, event: SchedulerEvent) -> None:
        if not isinstance(event, TaskEvent) or not event.code & self.mask:
            return
        labels = {"task_id": event.task_id, "store": event.store or ""}
        samples: list[Sample] = []
        if event.code in (ev.TASK_EXECUTED, ev.TASK_ERROR):
            outcome = "error" if event.code == ev.TASK_ERROR else "executed"
            samples.append(Sample("runs", "counter", 1, {**labels, "outcome": outcome}))
            if event.code == ev.TASK_ERROR:
                samples.append(Sample("failures", "counter", 1, labels))
            if isinstance(event, TaskExecutionEvent):
                samples.extend(_timings(event, labels))
        elif event.code == ev.TASK_MISSED:
            samples.append(Sample("misfires", "counter", 1, labels))
        elif event.code == ev.TASK_MAX_INSTANCES:
            samples.append(Sample("max_instances_skips", "counter", 1, labels))
        elif event.code == ev.TASK_QUARANTINED:
            samples.append(Sample("quarantined", "counter", 1, labels))
        with self._lock:
            for sample in samples:
                self._record(sample)
        if self.on_sample is not None:
            for sample in samples:
                self.on_sample(sample)

    def _record(self, sample: Sample) -> None:
        if sample.kind == "counter":
            self._counters[sample.name] += int(sample.value)
        elif sample.name == "lateness_seconds":
            self._lateness.observe(sample.value)
        else:
            self._duration.observe(sample.value)

    def snapshot(self) -> dict[str, Any]:
        """Totals since the collector was created: the counters plus ``lateness_seconds``
        and ``duration_seconds`` histograms."""
        with self._lock:
            return {
                **self._counters,
                "lateness_seconds": self._lateness.snapshot(),
                "duration_seconds": self._duration.snapshot(),
            }


def _timings(event: TaskExecutionEvent, labels: Mapping[str, str]) -> list[Sample]:
    samples: list[Sample] = []
    if event.started_at is not None and event.scheduled_run_time is not None:
        lateness = max((event.started_at - event.scheduled_run_time).total_seconds(), 0.0)
        samples.append(Sample("lateness_seconds", "histogram", lateness, labels))
    if event.duration is not None:
        samples.append(Sample("duration_seconds", "histogram", event.duration, labels))
    return samples


__all__ = [
    "COUNTERS",
    "DURATION_BUCKETS",
    "LATENESS_BUCKETS",
    "Histogram",
    "JsonLogFormatter",
    "MetricsCollector",
    "Sample",
]
