"""FileStore: tasks kept as files in a local directory (``pip install asyncz-file``)."""

from asyncz.stores.file._store import FileStore

__all__ = ["FileStore"]
