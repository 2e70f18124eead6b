"""An example third-party asyncz store kept in a SQLite file (alias ``acme``)."""

from acme_asyncz_store.store import AcmeStore

__all__ = ["AcmeStore"]
