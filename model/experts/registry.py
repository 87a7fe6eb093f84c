"""Experts chosen by name. A name that is not registered is an error listing the names that are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

KINDS = ("segmenter", "tracker", "depth")
_REGISTRY: dict[str, dict[str, Callable[..., Any]]] = {kind: {} for kind in KINDS}


def register(kind: str, name: str, version: str = "1"):
    """Class decorator: make a backend available as `create(kind, name)`. Bump `version` whenever the backend's
    output for the same input changes: it is part of every run's key, so older runs are not reused."""
    if kind not in KINDS:
        raise ValueError(f"unknown expert kind {kind!r}; kinds are {', '.join(KINDS)}")

    def decorate(factory):
        _REGISTRY[kind][name] = factory
        factory.backend_name, factory.backend_version = name, version
        return factory

    return decorate


def available(kind: str) -> list[str]:
    _import_backends()
    return sorted(_REGISTRY[kind])


def version(kind: str, name: str) -> str:
    _import_backends()
    return _REGISTRY[kind][name].backend_version


def options(kind: str, name: str) -> list[str]:
    """Names of the options backend `name` takes (e.g. whether it runs a model: "device", "dtype", "weights")."""
    import inspect

    return [p for p in inspect.signature(backend(kind, name)).parameters if p not in ("self", "options")]


def backend(kind: str, name: str) -> Callable[..., Any]:
    """The registered class (factory) of `name`, unbuilt: for its declared traits."""
    _import_backends()
    if kind not in KINDS:
        raise ValueError(f"unknown expert kind {kind!r}; kinds are {', '.join(KINDS)}")
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise ValueError(f"unknown {kind} backend {name!r}; available: {', '.join(sorted(_REGISTRY[kind]))}") from None


def create(kind: str, name: str, **options: Any):
    """Build the backend `name` of `kind`; options go to its constructor."""
    return backend(kind, name)(**options)


def _import_backends() -> None:
    # Importing a backend module registers it; kept lazy so `import model.experts` stays light.
    from model.experts import cotracker, depth_anything, lucas_kanade, oracle, sam, sam2  # noqa: F401
