"""Registries of backends: engines and sandboxes by name, extensible by other packages.

sstar registers its own backends in code (``sstar.engine``, ``sstar.sandbox``). Another
package adds one without editing sstar, through a Python entry point::

    # its pyproject.toml
    [project.entry-points."sstar.engines"]
    mine = "mypkg.engine:open_mine"      # open_engine("mine:ARG") calls open_mine("ARG", **options)

    [project.entry-points."sstar.sandboxes"]
    vm = "mypkg.sandbox:open_vm"        # open_sandbox("vm") calls open_vm(parallel=..., warn=...)

Entry points are read on the first lookup of a name sstar does not know, so importing sstar
never imports third-party code.
"""

from __future__ import annotations

import threading
from importlib.metadata import entry_points
from typing import Callable, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., object])

ENGINE_GROUP = "sstar.engines"
SANDBOX_GROUP = "sstar.sandboxes"


class Registry(Generic[F]):
    """Factories by name: those registered in code, then those of the entry-point ``group``."""

    def __init__(self, group: str) -> None:
        self.group = group
        self._factories: dict[str, F] = {}
        self._lock = threading.Lock()
        self._plugins_loaded = False
        self.plugin_errors: dict[str, str] = {}  # entry point name -> why it could not be loaded

    def register(self, name: str, factory: F) -> F:
        with self._lock:
            self._factories[name] = factory
        return factory

    def get(self, name: str) -> F | None:
        factory = self._factories.get(name)
        if factory is None:
            self._load_plugins()
            factory = self._factories.get(name)
        return factory

    def names(self) -> list[str]:
        self._load_plugins()
        return list(self._factories)

    def _load_plugins(self) -> None:
        with self._lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True
            for ep in entry_points(group=self.group):
                if ep.name in self._factories:
                    continue  # sstar's own backends cannot be replaced by a plugin of the same name
                try:
                    self._factories[ep.name] = ep.load()
                except Exception as err:  # noqa: BLE001 - a broken plugin must not break sstar's own backends
                    self.plugin_errors[ep.name] = f"{ep.value}: {type(err).__name__}: {err}"

    def refresh(self) -> None:
        """Read the entry points again on the next miss (after installing a plugin at run time)."""
        with self._lock:
            self._plugins_loaded = False
