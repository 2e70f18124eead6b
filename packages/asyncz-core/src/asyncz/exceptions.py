"""Errors raised by asyncz. Each message says what went wrong, where, and what to do."""

from __future__ import annotations


class AsynczException(Exception):
    """Base class of every asyncz error."""


class AsynczLookupError(AsynczException, LookupError):
    """Something named by the caller does not exist."""


class TaskLookupError(AsynczLookupError):
    """No task with the given id exists in the store."""

    def __init__(self, task_id: str, store: str | None = None) -> None:
        where = f" in store {store!r}" if store else ""
        super().__init__(f"No task with id {task_id!r} was found{where}.")
        self.task_id = task_id
        self.store = store


class ConflictIdError(AsynczException, KeyError):
    """A task with the same id already exists."""

    def __init__(self, task_id: str, store: str | None = None) -> None:
        where = f" in store {store!r}" if store else ""
        super().__init__(
            f"A task with id {task_id!r} already exists{where}; "
            "pass replace_existing=True to overwrite it or choose another id."
        )
        self.task_id = task_id

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class MaximumInstancesError(AsynczException):
    """A task is already running as many times as its max_instances allows."""

    def __init__(self, task_id: str, max_instances: int) -> None:
        super().__init__(
            f"Task {task_id!r} reached its maximum number of running instances ({max_instances})."
        )
        self.task_id = task_id
        self.max_instances = max_instances


class SchedulerAlreadyRunningError(AsynczException):
    """The operation needs a stopped scheduler."""

    def __init__(self) -> None:
        super().__init__("The scheduler is already running; shut it down first.")


class SchedulerNotRunningError(AsynczException):
    """The operation needs a running scheduler."""

    def __init__(self) -> None:
        super().__init__("The scheduler has not been started; call scheduler.start() first.")


class PluginError(AsynczException):
    """Base of the plugin registry's errors."""


class UnknownPluginError(PluginError, LookupError, ValueError):
    """No installed plugin provides the requested alias."""

    def __init__(self, kind: str, alias: str, installed: list[str]) -> None:
        listed = ", ".join(sorted(installed)) or "none"
        message = (
            f"No {kind} plugin named {alias!r} is installed. Installed {kind} aliases: {listed}."
        )
        if kind == "store":
            # The naming rule (alias x -> distribution asyncz-x), never a table of backends.
            message += (
                f" If {alias!r} is an asyncz store, install it with: pip install asyncz-{alias}"
            )
        super().__init__(message)
        self.kind = kind
        self.alias = alias
        self.installed = installed


class PluginLoadError(PluginError, ImportError):
    """A plugin is installed but could not be imported or registered."""


class ConfigurationError(AsynczException, ValueError):
    """A scheduler, store or executor option is invalid."""


class TaskEncodeError(AsynczException, ValueError):
    """A task cannot be written to a store in its configured format."""


class TaskDecodeError(AsynczException):
    """A stored record cannot be turned back into a task (corrupt, tampered, wrong key, ...).

    Stores never delete such a record: they quarantine it and report this reason.
    """

    def __init__(self, reason: str, task_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.task_id = task_id


class StoreUnavailableError(AsynczException, ConnectionError):
    """A store's server cannot be reached."""
