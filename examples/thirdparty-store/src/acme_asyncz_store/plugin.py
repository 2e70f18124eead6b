"""The module named by the ``acme`` entry point: it registers the store class."""

from __future__ import annotations

from asyncz.plugins import hookimpl
from asyncz.plugins.hookspecs import Register


@hookimpl
def asyncz_register_stores(register: Register) -> None:
    from acme_asyncz_store.store import AcmeStore

    register("acme", AcmeStore)
