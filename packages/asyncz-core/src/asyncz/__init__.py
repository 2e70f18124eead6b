"""asyncz: an asyncio job scheduler whose task stores are plugins.

``asyncz`` spans several distributions: ``asyncz-core`` owns this package, and each store
distribution (``asyncz-redis``, ``asyncz-file``, ...) adds one leaf under ``asyncz.stores``.
``asyncz.stores`` is a namespace level with no ``__init__`` in any distribution; extending
``__path__`` here lets those leaves be found in editable installs too, where every
distribution's ``src`` directory is a separate entry on ``sys.path``.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Lazy, so `import asyncz` stays cheap and never imports the scheduler machinery by accident.
    if name in {"AsyncIOScheduler", "Asyncz"}:
        from asyncz.schedulers import AsyncIOScheduler

        return AsyncIOScheduler
    raise AttributeError(f"module 'asyncz' has no attribute {name!r}")


__all__ = ["AsyncIOScheduler", "Asyncz", "__version__"]
