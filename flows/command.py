"""Verbs built from config models, and user errors told in a line or two.

Why: a stage's pydantic config is the one description of its options. `config_verb` turns every field into a
command-line option (help from the field's description, bounds from its constraints) and adds `--config FILE`,
so a verb, the pipeline that nests several stages and a YAML file can never disagree. A user's mistake (a bad
option, a misspelt spec field, an unreachable database, a full disk) ends as a short message and an exit code,
not a traceback, unless `--debug` or R4D_DEBUG asks for it.
"""

from __future__ import annotations

import errno
import functools
import inspect
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import annotated_types
import typer
import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from rich.console import Console
from rich.text import Text

from settings import Settings, masked


class UsageError(typer.BadParameter):
    """A bad option, config file or spec file: exit 2, with the usage line."""


class NoSettings(BaseModel, extra="forbid"):
    """The config of a verb that has no settings (status, demo): its `--config` file may only be empty, so
    that a script can pass `--config` to every verb alike."""


errors = Console(stderr=True)
debug_requested = False  # set by `r4d --debug`; R4D_DEBUG=1 does the same


@dataclass(frozen=True)
class Leaf:
    """One config field that is an option: `path` in the nested config, `flag` on the command line."""

    path: tuple[str, ...]
    field: FieldInfo
    flag: str

    @property
    def param(self) -> str:
        return "__".join(self.path)


def leaves(model: type[BaseModel]) -> list[Leaf]:
    """The options of a config, nested models flattened. A flag two sections share gets the later section's
    name in front (the pipeline's `--seed` is ingest's, `--generate-seed` generate's)."""
    found: list[Leaf] = []
    taken: set[str] = set()

    def walk(cls: type[BaseModel], prefix: tuple[str, ...]) -> None:
        for name, field in cls.model_fields.items():
            if _is_model(field.annotation):
                walk(field.annotation, (*prefix, name))
                continue
            if _option_type(field.annotation) is None:  # e.g. free-form dicts: config files only
                continue
            flag = (field.json_schema_extra or {}).get("flag", name.replace("_", "-"))
            if flag in taken:
                flag = f"{prefix[0].replace('_', '-')}-{flag}"
            taken.add(flag)
            found.append(Leaf((*prefix, name), field, flag))

    walk(model, ())
    return found


def config_verb(app: typer.Typer, model: type[BaseModel], name: str | None = None, default: bool = False):
    """Register `fn(config, **own)` as verb `name`: its own parameters, one option per config field, `--config`.
    `default`: instead the verb the group `app` itself runs when no sub-verb is named (`r4d train` beside
    `r4d train teacher`)."""

    def register(fn: Callable[..., Any]):
        own = [p for p in inspect.signature(fn).parameters.values() if p.name != "config"]
        hints = typing.get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints[p.name], kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        fields = leaves(model)

        @functools.wraps(fn)
        def verb(**given):
            ctx = given.pop("ctx")
            if default and ctx.invoked_subcommand is not None:
                return None  # a sub-verb runs instead
            file = given.pop("config_file")
            data = _read_config(file) if file else {}
            for leaf in fields:
                value = given.pop(leaf.param)
                source = ctx.get_parameter_source(leaf.param)
                if source is None or source.name == "DEFAULT":
                    continue
                _put(data, leaf.path, _from_option(leaf, value))
            try:
                config = model.model_validate(data)
            except ValidationError as error:
                raise UsageError(_describe(error, fields, file)) from None
            return fn(config, **given)

        context = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
        parameters = [context, *own, *(_parameter(leaf) for leaf in fields), _config_parameter()]
        verb.__signature__ = inspect.Signature(parameters)
        verb.__annotations__ = {p.name: p.annotation for p in parameters}
        del verb.__wrapped__  # typer must read the signature above, not fn's
        if default:
            app.callback(invoke_without_command=True)(guard(verb))  # flows/cli.py guards only sub-verbs
        else:
            app.command(name)(verb)
        return fn

    return register


def guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a user's mistake raised anywhere below a verb into a short message (the traceback with --debug)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            message = user_message(error)
            if message is None or debug_requested or Settings().debug:
                raise
            errors.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)  # no markup: paths have [ ]
            raise typer.Exit(1) from None

    return run


def user_message(error: BaseException) -> str | None:
    """One or two lines for errors a user causes and can fix; None for a bug (which keeps its traceback)."""
    from sqlalchemy.exc import ArgumentError, InterfaceError, NoSuchModuleError, OperationalError

    if isinstance(error, OperationalError | InterfaceError | ArgumentError | NoSuchModuleError):
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return (
            f"database {masked(Settings().database())}: {reason}\n"
            "Check R4D_DATABASE_URL (and that its server runs), or unset it for the embedded SQLite database."
        )
    from flows.perceive.cluster import ClusterError

    if isinstance(error, ClusterError):
        return f"cluster: {error}"
    if isinstance(error, OSError) and error.errno in _STORAGE_ERRNOS:
        where = error.filename or Settings().data_dir
        return (
            f"{where}: {error.strerror or error}\n"
            "Free space or fix permissions there, or point R4D_DATA_DIR / R4D_ARTIFACT_URL at a writable place."
        )
    return None


_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST}


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _option_type(annotation: Any) -> Any:
    """The type typer parses for a field, or None when the field is not an option."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        inner = _option_type(next(a for a in args if a is not type(None)))
        return None if inner is None else inner | None
    if annotation in (int, float, str, bool, Path, datetime):
        return annotation
    if origin is list and args and args[0] in (int, float, str, Path):
        return list[args[0]] | None
    if origin is dict and args == (str, str):
        return list[str] | None  # KIND=VALUE, repeatable
    return None


def _parameter(leaf: Leaf) -> inspect.Parameter:
    kind = _option_type(leaf.field.annotation)
    extra = leaf.field.json_schema_extra or {}
    default = leaf.field.get_default(call_default_factory=True)
    if not isinstance(default, str | int | float | bool | Path | datetime) or default is None:
        default = None
    bounds = {}
    for item in leaf.field.metadata:
        if isinstance(item, annotated_types.Ge):
            bounds["min"] = item.ge
        elif isinstance(item, annotated_types.Gt) and leaf.field.annotation is int:
            bounds["min"] = item.gt + 1
        elif isinstance(item, annotated_types.Le):
            bounds["max"] = item.le
    help_text = leaf.field.description
    if leaf.field.is_required():  # not required by typer: the config file may give it
        help_text = f"{help_text} Required, here or in the --config file."
    if extra.get("argument"):
        info = typer.Argument(help=help_text, metavar=leaf.flag.upper(), show_default=False)
    elif kind is bool:
        info = typer.Option(f"--{leaf.flag}/--no-{leaf.flag}", help=help_text)
    else:
        info = typer.Option(f"--{leaf.flag}", help=help_text, **bounds)
    return inspect.Parameter(
        leaf.param, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, info]
    )


def _config_parameter() -> inspect.Parameter:
    info = typer.Option("--config", help="YAML file of this verb's settings; options given here override it.")
    return inspect.Parameter(
        "config_file", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Path | None, info]
    )


def _from_option(leaf: Leaf, value: Any) -> Any:
    if typing.get_origin(leaf.field.annotation) is dict:
        pairs = [item.partition("=") for item in value or []]
        bad = [key for key, sep, _ in pairs if not sep]
        if bad:
            raise UsageError(f"--{leaf.flag} takes KIND=VALUE, got {bad[0]!r}")
        return {key: rest for key, _, rest in pairs}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [str(v) if isinstance(v, Path) else v for v in value]
    return value


def _put(data: dict, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data.setdefault(key, {})
    data[path[-1]] = value


def _read_config(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise UsageError(f"config file {path}: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"config file {path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def _describe(error: ValidationError, fields: list[Leaf], file: Path | None) -> str:
    """The first problem, named as the user wrote it: the option, or the key in the config file."""
    problems = error.errors()
    first = problems[0]
    loc = tuple(str(part) for part in first["loc"])
    leaf = next((f for f in fields if loc[: len(f.path)] == f.path), None)
    where = ".".join(loc) or "config"
    if leaf:
        where = leaf.flag.upper() if (leaf.field.json_schema_extra or {}).get("argument") else f"--{leaf.flag}"
    if file is not None:
        where = f"{where} (or {'.'.join(loc)} in {file})"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    if first["type"] == "missing":
        return f"{where}: required{more}"
    return f"{where}: {first['msg']}, got {first.get('input')!r}{more}"


def scene_specs(synthetic) -> list:
    """The scenes to render, every spec file read now: a bad one is a usage error before any flow starts."""
    try:
        return synthetic.specs()
    except ValueError as error:
        raise UsageError(str(error)) from None


def ready_stage():
    """The database (reached and upgraded) and a writable artifact store, checked before Prefect starts."""
    import tempfile

    from fsspec.implementations.local import LocalFileSystem

    from flows.stage import open_stage

    stage = open_stage()
    if isinstance(stage.store.fs, LocalFileSystem):
        with tempfile.TemporaryFile(dir=stage.store.root):
            pass
    return stage
