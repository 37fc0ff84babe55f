"""One settings object for every command and the nightly flow, and where each value came from.

Precedence, lowest first: the defaults below < the config file < the environment
(``NIANBAO_<NAME>``) < command-line flags (or the flow's parameters).  The config file is
``--config PATH``, else ``$NIANBAO_CONFIG``, else ``nianbao.toml`` in the working directory if
there is one; it holds flat ``name = value`` pairs with the names below.

Why one object: the registry default was written in three places, `crawl` ignored
``NIANBAO_REGISTRY``, and the HTTP and extraction knobs could only be changed in code.  The
defaults themselves stay where they are explained (``HttpConfig``, ``Limits``); this module only
says how a person changes them, and ``nianbao config`` shows the outcome.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nianbao.extract.http import HttpConfig

from .errors import UserError
from .extraction import Limits

if TYPE_CHECKING:
    from nianbao.extract.crawler import CrawlConfig

CONFIG_FILE = "nianbao.toml"
CONFIG_ENV = "NIANBAO_CONFIG"
ENV_PREFIX = "NIANBAO_"
DEFAULT = "default"

_HTTP, _LIMITS = HttpConfig(), Limits()


def _setting(
    default: Any,
    help: str,
    *,
    flags: tuple[str, ...] = (),
    minimum: float | None = None,
    part: str = "",
) -> Any:
    """A settings field: its default, help text, extra flag spellings, lower bound, and the
    part (``http``/``limits``) it configures."""
    meta = {"help": help, "flags": flags, "minimum": minimum, "part": part}
    return field(default=default, metadata=meta)


def _http(name: str, help: str, *, minimum: float | None = 0, flags: tuple[str, ...] = ()) -> Any:
    return _setting(getattr(_HTTP, name), help, flags=flags, minimum=minimum, part="http")


def _limit(name: str, help: str, minimum: float = 1) -> Any:
    return _setting(getattr(_LIMITS, name), help, minimum=minimum, part="limits")


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings; ``origins`` says where each value came from."""

    data: Path = _setting(Path("data"), "data directory: raw store, warehouse, views")
    registry: Path = _setting(Path("data/portals.csv"), "portal registry CSV")
    delay: float = _http("delay", "minimum seconds between two requests to one host")
    workers: int = _setting(8, "hosts crawled in parallel", minimum=1)
    connect_timeout: float = _http("connect_timeout", "seconds to connect to a host")
    read_timeout: float = _http("read_timeout", "seconds one read may wait", flags=("--timeout",))
    total_timeout: float = _http("total_timeout", "seconds one request attempt may take")
    fetch_timeout: float = _http("fetch_timeout", "seconds one fetch with its retries may take")
    retries: int = _http("retries", "extra attempts after a failed request")
    user_agent: str = _http("user_agent", "User-Agent header sent to portals", minimum=None)
    extract_workers: int = _limit("workers", "extraction worker processes (0: per core)", minimum=0)
    extract_seconds: float = _limit("seconds", "wall-time limit per document")
    extract_memory_mb: int = _limit("memory_mb", "resident-memory limit per document (MB)")
    extract_output_mb: int = _limit("output_mb", "result-size limit per document (MB)")
    backfill_per_night: int = _setting(
        200,
        "snapshots extracted by an older extractor version that a night re-extracts",
        minimum=0,
    )
    dask_address: str = _setting(
        "", "Dask scheduler the backfill sends extraction to (empty: a local cluster)"
    )
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def http_config(self) -> HttpConfig:
        """The HTTP client's knobs: HttpConfig's defaults with these settings applied."""
        return dataclasses.replace(_HTTP, **self._part("http"))

    def crawl_config(self) -> CrawlConfig:
        """The crawler's configuration: its HTTP knobs and how many hosts run in parallel."""
        from nianbao.extract.crawler import CrawlConfig

        return CrawlConfig(http=self.http_config(), workers=self.workers)

    def limits(self) -> Limits:
        """Per-document extraction limits and the pool size."""
        values = {k.removeprefix("extract_"): v for k, v in self._part("limits").items()}
        return dataclasses.replace(_LIMITS, **values)

    def _part(self, part: str) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in FIELDS if f.metadata["part"] == part}

    def as_dict(self) -> dict[str, Any]:
        """Name → value (paths as strings), in declaration order."""
        return {f.name: plain(getattr(self, f.name)) for f in FIELDS}


FIELDS: tuple[dataclasses.Field, ...] = tuple(
    f for f in dataclasses.fields(Settings) if f.name != "origins"
)
NAMES = frozenset(f.name for f in FIELDS)
_BY_NAME = {f.name: f for f in FIELDS}
# Groups of settings offered as flags by the commands.
CRAWL = ("data", "registry", "delay", "workers")
HTTP = tuple(n for n in _BY_NAME if _BY_NAME[n].metadata["part"] == "http" and n != "delay")
EXTRACT = tuple(n for n in _BY_NAME if _BY_NAME[n].metadata["part"] == "limits")
BACKFILL = ("data", "registry", "dask_address", *EXTRACT)


def env_var(name: str) -> str:
    return ENV_PREFIX + name.upper()


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


# --------------------------------------------------------------------------- loading


def load(
    flags: Mapping[str, Any] | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    via: str = "flag",
) -> Settings:
    """Settings from defaults < config file < environment < ``flags`` (None = not given).

    ``defaults`` replaces built-in defaults (the demo's short delay); ``via`` names where the
    ``flags`` came from in ``origins`` (``flag`` for the CLI, ``parameter`` for the flow).
    Raises UserError, in one line, for an unknown key or a value of the wrong kind.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    origins = {name: DEFAULT for name in NAMES}
    for name, raw in (defaults or {}).items():
        values[name] = _coerce(name, raw, Path.cwd(), f"default {name}")
    path = config_path(config, env)
    if path is not None:
        for name, raw in read_file(path).items():
            values[name] = _coerce(name, raw, path.parent, f"{path}: {name}")
            origins[name] = str(path)
    for name in NAMES:
        raw = env.get(env_var(name), "")
        if raw != "":
            values[name] = _coerce(name, raw, Path.cwd(), env_var(name))
            origins[name] = env_var(name)
    for name, raw in (flags or {}).items():
        if raw is not None and name in NAMES:
            where = flag(name) if via == "flag" else f"{via} {name}"
            values[name] = _coerce(name, raw, Path.cwd(), where)
            origins[name] = where
    settings = Settings(**values, origins=origins)
    return dataclasses.replace(
        settings, data=_absolute(settings.data), registry=_absolute(settings.registry)
    )


def from_args(args: argparse.Namespace, **kwargs: Any) -> Settings:
    """Settings for a command: its flags (those it offers) over environment, file, defaults."""
    return load(vars(args), config=getattr(args, "config", None), **kwargs)


def config_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """The config file to read: named (flag, then $NIANBAO_CONFIG; must exist), else
    ./nianbao.toml when present, else none."""
    named = explicit or env.get(CONFIG_ENV) or None
    if named is None:
        local = Path(CONFIG_FILE)
        return local.resolve() if local.is_file() else None
    path = Path(named).expanduser().resolve()
    if not path.is_file():
        raise UserError(f"config file {path} not found")
    return path


def read_file(path: Path) -> dict[str, Any]:
    """The ``name = value`` pairs of a config file; any other key is a mistake, said so."""
    try:
        with path.open("rb") as f:
            content = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: not valid TOML: {e}") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read: {e.strerror or e}") from None
    unknown = sorted(set(content) - NAMES)
    if unknown:
        raise UserError(
            f"{path}: unknown setting {', '.join(unknown)} (known: {', '.join(sorted(NAMES))})"
        )
    return content


def _coerce(name: str, raw: Any, base: Path, where: str) -> Any:
    """``raw`` (TOML value, environment or flag text) as the setting's type, checked."""
    f = _BY_NAME[name]
    kind = type(f.default)
    try:
        value = _convert(kind, raw, base)
    except (TypeError, ValueError):
        noun = {float: "a number", int: "a whole number"}.get(kind, "a string")
        raise UserError(f"{where}: {raw!r} is not {noun}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{where}: {raw!r} is not a finite number")
    minimum = f.metadata["minimum"]
    if minimum is not None and value < minimum:
        raise UserError(f"{where}: {raw!r} must be >= {minimum:g}")
    return value


def _convert(kind: type, raw: Any, base: Path) -> Any:
    if isinstance(raw, bool):  # TOML true/false is neither a number nor a path
        raise TypeError(raw)
    if issubclass(kind, Path):
        if not isinstance(raw, str | os.PathLike) or not str(raw):
            raise TypeError(raw)
        return base / Path(raw).expanduser()
    if kind is int and isinstance(raw, float):
        raise TypeError(raw)
    if kind is str and not isinstance(raw, str):
        raise TypeError(raw)
    return kind(raw.strip() if isinstance(raw, str) else raw)


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


# --------------------------------------------------------------------------- the CLI side


_METAVARS = {float: "SECONDS", int: "N", str: "TEXT"}


def add_arguments(parser: argparse.ArgumentParser, names: tuple[str, ...] = ()) -> None:
    """``--config`` and a flag for each of ``names``; flags default to None (= not given), and
    take text so that a bad value gets the same one-line error as in a file or variable."""
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=None,
        help=f"settings file (default: ${CONFIG_ENV}, else ./{CONFIG_FILE} if present)",
    )
    for name in names:
        f = _BY_NAME[name]
        default = plain(f.default)
        parser.add_argument(
            flag(name),
            *f.metadata["flags"],
            dest=name,
            default=None,
            metavar="PATH" if isinstance(f.default, Path) else _METAVARS[type(f.default)],
            help=f"{f.metadata['help']} (default: {default}; ${env_var(name)})",
        )
