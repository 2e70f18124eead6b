"""The results table: one row per backend and measurement, ratios to the peers, targets.

A ratio is ours / theirs; the "better" column says whether a larger figure is better
(rates) or a smaller one (times, bytes). Targets apply to our project only and are checked
against the figures of the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: p99 latency limits in ms, per backend.
LATENCY_P99_MS = {
    "memory": 5.0,
    "redis": 5.0,
    "sqlite": 15.0,
    "postgres": 15.0,
    "mongo": 15.0,
    "file": 20.0,
}
MEMORY_BYTES_PER_TASK = 600.0
FIRST_START_MS = 50.0
PEER_FACTOR = 2.0
FLAT_FACTOR = 2.0

Results = dict[str, dict[str, dict[str, Any]]]  # project -> backend -> adapter output


@dataclass
class Row:
    backend: str
    key: str
    label: str
    unit: str
    higher_better: bool
    values: dict[str, float | None]
    partial: list[str]
    target: str = ""
    status: str = ""


def metric_rows(due_ns: Sequence[int], backend: str) -> list[tuple[str, str, str, bool]]:
    """(key, label, unit, higher is better) in table order."""
    rows = [
        ("add.rate", "add, one by one", "tasks/s", True),
        ("add.batched_rate", "add, batch() of 100", "tasks/s", True),
    ]
    for n in sorted(due_ns):
        rows.append((f"due.get_due_tasks@{n}", f"get_due_tasks @{n:,}", "ms", False))
        rows.append((f"due.next_run_time@{n}", f"get_next_run_time @{n:,}", "ms", False))
    rows += [
        ("dispatch.rate", "dispatch", "tasks/s", True),
        ("dispatch.first_start", "dispatch: first start", "ms", False),
        ("latency.p50", "latency p50", "ms", False),
        ("latency.p99", "latency p99", "ms", False),
        ("latency.max", "latency max", "ms", False),
    ]
    if backend == "memory":
        rows.append(("memory.bytes_per_task", "memory per task", "bytes", False))
    return rows


def entry(results: Results, project: str, backend: str, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        results.get(project, {}).get(backend, {}).get("metrics", {}).get(key)
    )
    return found


def value(results: Results, project: str, backend: str, key: str) -> float | None:
    found = entry(results, project, backend, key)
    return None if found is None else float(found["value"])


def build_rows(
    results: Results, projects: Sequence[str], backends: Sequence[str], due_ns: Sequence[int]
) -> list[Row]:
    rows = []
    for backend in backends:
        for key, label, unit, higher in metric_rows(due_ns, backend):
            values = {p: value(results, p, backend, key) for p in projects}
            partial = [
                p for p in projects if (entry(results, p, backend, key) or {}).get("partial")
            ]
            row = Row(backend, key, label, unit, higher, values, partial)
            check_target(row, results, due_ns)
            rows.append(row)
    return rows


def check_target(row: Row, results: Results, due_ns: Sequence[int]) -> None:
    ours = row.values.get("ours")
    limit: float | None = None
    if row.key in {"add.rate", "add.batched_rate", "dispatch.rate"}:
        peers = [v for p, v in row.values.items() if p != "ours" and v is not None]
        if not peers:
            return
        limit = PEER_FACTOR * max(peers)
        row.target = f">= {fmt(limit)} (2x best peer)"
    elif row.key.startswith("due.") and due_ns and row.key.endswith(f"@{max(due_ns)}"):
        smallest = min(due_ns)
        base = value(results, "ours", row.backend, row.key.split("@")[0] + f"@{smallest}")
        if base is None:
            return
        limit = FLAT_FACTOR * base
        row.target = f"<= {fmt(limit)} (2x @{smallest:,})"
    elif row.key == "latency.p99":
        limit = LATENCY_P99_MS[row.backend]
        row.target = f"< {fmt(limit)}"
    elif row.key == "dispatch.first_start":
        limit = FIRST_START_MS
        row.target = f"< {fmt(limit)}"
    elif row.key == "memory.bytes_per_task":
        limit = MEMORY_BYTES_PER_TASK
        row.target = f"<= {fmt(limit)}"
    if limit is None or "ours" not in row.values:
        return
    if ours is None:
        row.status = "-"
    elif row.higher_better:
        row.status = "PASS" if ours >= limit else "MISS"
    else:
        row.status = "PASS" if ours <= limit else "MISS"


def fmt(number: float | None) -> str:
    if number is None:
        return "-"
    size = abs(number)
    if size >= 100:
        return f"{number:,.0f}"
    if size >= 10:
        return f"{number:.1f}"
    if size >= 1:
        return f"{number:.2f}"
    if size >= 0.01:
        return f"{number:.3f}"
    return f"{number:.4f}"


def render(
    rows: Sequence[Row],
    projects: Sequence[str],
    labels: dict[str, str],
    unavailable: dict[tuple[str, str], str],
) -> str:
    """A Markdown table (readable as plain text too)."""
    peers = [p for p in projects if p != "ours"]
    header = ["backend", "measurement", "unit", *(labels[p] for p in projects)]
    if "ours" in projects:
        header += [f"ours/{labels[p].split()[0]}" for p in peers]
    header += ["better", "target (ours)", "status"]
    lines = [header]
    for row in rows:
        cells = [row.backend, row.label, row.unit]
        for project in projects:
            missing = unavailable.get((project, row.backend))
            figure = row.values.get(project)
            text = fmt(figure) if figure is not None or missing is None else "n/a"
            cells.append(text + ("*" if project in row.partial else ""))
        if "ours" in projects:
            ours = row.values.get("ours")
            for peer in peers:
                theirs = row.values.get(peer)
                ratio = None if ours is None or not theirs else ours / theirs
                cells.append("-" if ratio is None else f"{ratio:.{3 if ratio < 0.1 else 2}f}x")
        cells += ["higher" if row.higher_better else "lower", row.target, row.status]
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    numeric = set(range(3, len(header) - 3))

    def join(cells: list[str]) -> str:
        padded = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (w + 1) + ":" if i in numeric else "-" * (w + 2) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([join(lines[0]), rule, *(join(cells) for cells in lines[1:])])


PARTIAL_NOTE = (
    "* stopped at the case's time budget: the figure is over fewer tasks than asked (see the notes)"
)


def summary(rows: Sequence[Row]) -> str:
    checked = [row for row in rows if row.status in {"PASS", "MISS"}]
    passed = sum(row.status == "PASS" for row in checked)
    missed = [f"{row.backend} {row.label}" for row in checked if row.status == "MISS"]
    absent = [f"{row.backend} {row.label}" for row in rows if row.status == "-"]
    text = f"Targets: {passed} of {len(checked)} PASS"
    text += f"; MISS: {', '.join(missed)}" if missed else ""
    text += f"; not measured: {', '.join(absent)}" if absent else ""
    if any(row.partial for row in rows):
        text += "\n" + PARTIAL_NOTE
    return text
