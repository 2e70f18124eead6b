"""Plugins: stores, executors and triggers found by alias through entry points."""

from asyncz.plugins.hookspecs import hookimpl, hookspec
from asyncz.plugins.registry import PluginRegistry, default_registry

__all__ = ["PluginRegistry", "default_registry", "hookimpl", "hookspec"]
