"""Enumerations."""

from enum import IntEnum


class SchedulerState(IntEnum):
    STOPPED = 0
    RUNNING = 1
    PAUSED = 2
