"""The registry of plugins: loads them once, lazily, through the one plugin manager, and keeps
what they registered (generators, metrics, suite sources, plots) by name with its provider.

Plugins come from entry points in the ``genobench`` group (first-party ones in ``plugins/`` are
installed the same way as any third party's) and from the modules in :data:`DEFAULT_PLUGINS`,
which are part of the genobench core (its anchors, metrics, suite sources and plots).
``GENOBENCH_LOAD_PLUGINS`` (a comma-separated list of entry-point names; empty for none) limits
which entry points load. Registries keep registration order: the core's first, then entry
points, then plugins registered at run time (:func:`register_plugin`).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import os
import threading

import pluggy

from . import __version__, hookspecs
from .errors import PluginError, UnknownNameError

#: Core modules registered as plugins, through the same ``pm.register`` path as any other.
DEFAULT_PLUGINS = (
    "genobench.anchors",
    "genobench.sources.simulated",
    "genobench.sources.files",
    "genobench.metrics.core",
    "genobench.report.figures",
)

ENTRY_POINT_GROUP = "genobench"


@dataclasses.dataclass(frozen=True)
class Provider:
    """Where a registered object came from: plugin name, distribution and version."""

    plugin: str
    distribution: str
    version: str

    def __str__(self) -> str:
        return f"{self.distribution} {self.version} ({self.plugin})"


@dataclasses.dataclass
class Registry:
    """Everything plugins registered, by name, with its provider."""

    generators: dict = dataclasses.field(default_factory=dict)
    metrics: dict = dataclasses.field(default_factory=dict)
    suite_sources: dict = dataclasses.field(default_factory=dict)
    plots: dict = dataclasses.field(default_factory=dict)  # in registration order
    providers: dict = dataclasses.field(default_factory=dict)  # (kind, name) -> Provider


_lock = threading.Lock()
_pm: pluggy.PluginManager | None = None
_registry: Registry | None = None
_providers_by_plugin: dict[object, Provider] = {}


def _core_provider(module_name: str) -> Provider:
    return Provider(module_name, "genobench", __version__)


def _selected_entry_points():
    wanted = os.environ.get("GENOBENCH_LOAD_PLUGINS")
    names = None if wanted is None else {n.strip() for n in wanted.split(",") if n.strip()}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if names is None or entry_point.name in names:
            yield entry_point


def load_plugins() -> pluggy.PluginManager:
    """Create the plugin manager, load every plugin once and return the manager.

    Raises :class:`PluginError` naming the plugin when one fails to import or implements a
    hook that does not exist (``check_pending``).
    """
    global _pm
    with _lock:
        if _pm is not None:
            return _pm
        pm = pluggy.PluginManager("genobench")
        pm.add_hookspecs(hookspecs)
        for module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            pm.register(module, name=module_name)
            _providers_by_plugin[module] = _core_provider(module_name)
        seen = set()
        for entry_point in _selected_entry_points():
            if entry_point.name in seen:
                continue
            seen.add(entry_point.name)
            try:
                plugin = entry_point.load()
            except Exception as error:  # a broken third-party plugin: one clear line
                raise PluginError(
                    f"plugin {entry_point.name!r} ({entry_point.value}) failed to import: "
                    f"{type(error).__name__}: {error}") from None
            if pm.is_registered(plugin):
                continue
            pm.register(plugin, name=entry_point.name)
            dist = getattr(entry_point, "dist", None)
            _providers_by_plugin[plugin] = Provider(
                entry_point.name,
                dist.metadata["Name"] if dist is not None else "?",
                dist.version if dist is not None else "?")
        try:
            pm.check_pending()
        except pluggy.PluginValidationError as error:
            raise PluginError(f"plugin {error.plugin!r}: {error}") from None
        _pm = pm
        return pm


def reset_plugins() -> None:
    """Forget loaded plugins; the next call loads them again (tests change the environment)."""
    global _pm, _registry
    with _lock:
        _pm, _registry = None, None
        _providers_by_plugin.clear()


def register_plugin(plugin, name: str | None = None) -> None:
    """Register an extra plugin object (a module or class with hookimpls) at run time.

    Used by tests and by programs embedding genobench; clears the cached registry.
    """
    global _registry
    pm = load_plugins()
    pm.register(plugin, name=name)
    _providers_by_plugin[plugin] = Provider(name or getattr(plugin, "__name__", repr(plugin)),
                                            "(registered at run time)", "-")
    pm.check_pending()
    _registry = None


def unregister_plugin(name: str) -> None:
    """Remove a plugin registered by :func:`register_plugin` and clear the cached registry."""
    global _registry
    pm = load_plugins()
    plugin = pm.unregister(name=name)
    _providers_by_plugin.pop(plugin, None)
    _registry = None


def _collect(kind: str, hook, check) -> tuple[dict, dict]:
    """Call one register hook for every plugin in registration order, checking objects and
    duplicate names."""
    found, providers = {}, {}
    pm = load_plugins()
    for impl in hook.get_hookimpls():  # pluggy lists them in registration order
        provider = _providers_by_plugin.get(impl.plugin) or Provider(impl.plugin_name, "?", "?")

        def register(obj, _provider=provider):
            name = check(obj, _provider)
            if name in found:
                raise PluginError(
                    f"duplicate {kind} name {name!r}: registered by {providers[name]} "
                    f"and by {_provider}")
            found[name] = obj
            providers[name] = _provider

        try:
            impl.function(*[register for _ in impl.argnames])
        except PluginError:
            raise
        except Exception as error:
            raise PluginError(f"plugin {provider} failed while registering {kind}s: "
                              f"{type(error).__name__}: {error}") from None
    del pm
    return found, providers


def _check_generator(obj, provider) -> str:
    from .generators import Generator

    if not (isinstance(obj, type) and issubclass(obj, Generator)):
        raise PluginError(f"plugin {provider} registered {obj!r}, which is not a "
                          "genobench.Generator subclass")
    if not isinstance(getattr(obj, "name", None), str) or not obj.name:
        raise PluginError(f"plugin {provider} registered generator {obj.__name__} without a name")
    return obj.name


def _check_metric(obj, provider) -> str:
    from .metrics.base import Metric

    if not isinstance(obj, Metric):
        raise PluginError(f"plugin {provider} registered {obj!r}, which is not a "
                          "genobench.Metric instance")
    return obj.name


def _check_source(obj, provider) -> str:
    from .sources.base import SuiteSource

    if not isinstance(obj, SuiteSource):
        raise PluginError(f"plugin {provider} registered {obj!r}, which is not a "
                          "genobench.SuiteSource instance")
    return obj.name


def _check_plot(obj, provider) -> str:
    from .report.plots import Plot

    if not isinstance(obj, Plot):
        raise PluginError(f"plugin {provider} registered {obj!r}, which is not a "
                          "genobench.report.Plot instance")
    if not isinstance(getattr(obj, "name", None), str) or not obj.name:
        raise PluginError(f"plugin {provider} registered plot {type(obj).__name__} without a "
                          "name")
    return obj.name


def get_registry() -> Registry:
    """Every registered generator, metric, suite source and plot (computed once, then
    cached)."""
    global _registry
    if _registry is None:
        hook = load_plugins().hook
        registry = Registry()
        for kind, hook_caller, check, target in (
            ("generator", hook.genobench_register_generators, _check_generator, "generators"),
            ("metric", hook.genobench_register_metrics, _check_metric, "metrics"),
            ("suite source", hook.genobench_register_suite_sources, _check_source,
             "suite_sources"),
            ("plot", hook.genobench_register_plots, _check_plot, "plots"),
        ):
            found, providers = _collect(kind, hook_caller, check)
            setattr(registry, target, found)
            registry.providers.update({(kind, name): p for name, p in providers.items()})
        _registry = registry
    return _registry


def _lookup(kind: str, table: dict, name: str):
    if name not in table:
        import difflib

        known = ", ".join(sorted(table)) or "none"
        close = difflib.get_close_matches(str(name), sorted(table), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownNameError(f"unknown {kind} {name!r} ({hint}known: {known})")
    return table[name]


def get_generator(name: str):
    """The generator class registered as ``name``; :class:`UnknownNameError` if none."""
    return _lookup("generator", get_registry().generators, name)


def get_metric(name: str):
    """The metric registered as ``name``; :class:`UnknownNameError` if none."""
    return _lookup("metric", get_registry().metrics, name)


def get_suite_source(name: str):
    """The suite source registered as ``name``; :class:`UnknownNameError` if none."""
    return _lookup("suite source", get_registry().suite_sources, name)


def provider_of(kind: str, name: str) -> Provider | None:
    """The :class:`Provider` of a registered ``kind`` ("generator", "metric", "suite source")."""
    return get_registry().providers.get((kind, name))
