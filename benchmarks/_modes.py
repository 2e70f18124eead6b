"""How much each mode measures: sizes, repeats, budgets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mode:
    name: str
    repeats: int
    add_n: int
    due_ns: tuple[int, ...]
    dispatch_n: int
    latency_n: int
    latency_span: float
    memory_n: int
    min_calls: int
    call_budget: float
    add_budget: float
    due_skip_seconds: float | None
    timeout: float
    dispatch_budget: float | None = None


MODES = {
    "full": Mode(
        "full",
        3,
        10_000,
        (1_000, 10_000, 100_000),
        10_000,
        200,
        4.0,
        100_000,
        5,
        1.0,
        120.0,
        None,
        3600,
    ),
    "quick": Mode(
        "quick",
        1,
        500,
        (1_000, 10_000, 100_000),
        1_000,
        60,
        1.2,
        5_000,
        5,
        0.1,
        4.0,
        0.5,
        900,
        dispatch_budget=5.0,
    ),
    "smoke": Mode("smoke", 1, 200, (200, 1_000), 200, 20, 0.5, 2_000, 1, 0.0, 10.0, None, 120),
}
