"""When tasks fire: at a date, every interval, on a cron schedule, or combinations."""

from asyncz.triggers.base import BaseTrigger
from asyncz.triggers.combining import AndTrigger, BaseCombinationTrigger, OrTrigger
from asyncz.triggers.cron import CronTrigger
from asyncz.triggers.date import DateTrigger
from asyncz.triggers.interval import IntervalTrigger

__all__ = [
    "AndTrigger",
    "BaseCombinationTrigger",
    "BaseTrigger",
    "CronTrigger",
    "DateTrigger",
    "IntervalTrigger",
    "OrTrigger",
]
