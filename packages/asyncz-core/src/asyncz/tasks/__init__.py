"""Tasks: what the scheduler runs."""

from asyncz.tasks.task import Task
from asyncz.tasks.types import TaskType

__all__ = ["Task", "TaskType"]
