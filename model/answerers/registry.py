"""Answerers chosen by name. A name that is not registered is an error listing the names that are."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

_REGISTRY: dict[str, Callable[..., Any]] = {}


def register(name: str):
    """Class decorator: make an answerer available as `create(name, **options)`."""

    def decorate(factory):
        _REGISTRY[name] = factory
        factory.name = name
        return factory

    return decorate


def available() -> list[str]:
    _import_answerers()
    return sorted(_REGISTRY)


def options(name: str) -> list[str]:
    """Names of the options answerer `name` takes (e.g. "weights", "device", "dtype")."""
    return [p for p in inspect.signature(answerer(name)).parameters if p != "self"]


def required(name: str) -> list[str]:
    """The options answerer `name` cannot do without (no default), e.g. "weights" for `vlm`."""
    parameters = inspect.signature(answerer(name)).parameters.values()
    return [p.name for p in parameters if p.name != "self" and p.default is inspect.Parameter.empty]


def answerer(name: str) -> Callable[..., Any]:
    _import_answerers()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(sorted(_REGISTRY))}") from None


def create(name: str, **given: Any):
    """Build answerer `name`; options it does not take are an error, not silently dropped."""
    accepted = options(name)
    unknown = sorted(k for k, v in given.items() if k not in accepted and v is not None)
    if unknown:
        raise ValueError(f"model {name!r} takes no option {', '.join(unknown)} (it takes: {', '.join(accepted)})")
    return answerer(name)(**{k: v for k, v in given.items() if k in accepted and v is not None})


def _import_answerers() -> None:
    # Importing a module registers its answerers; lazy so `import model.answerers` stays light.
    from model.answerers import random, rgpt, vlm  # noqa: F401
