"""Provider accounts by name: ``rcskit.toml`` for settings, the environment or files for secrets.

::

    # rcskit.toml
    default_provider = "mydotgo"

    [providers.mydotgo]
    kind = "dotgo"
    bot_id = "OsOsQ0GwNvUdLTV9Bd"
    client_id = "my-client"
    client_secret_env = "DOTGO_CLIENT_SECRET"      # or client_secret_file = "secrets/dotgo"
    server_root = "https://api.dotgo.com/rcs"
    tps = 50                                        # optional client pacing

    [providers.orange]
    kind = "orange"
    bot_id = "my-orange-bot"
    authorization_header_env = "ORANGE_AUTHORIZATION"   # "Basic ..." from the console
    private_key_file = "orange-bot.pem"                 # PEM, or the portal's base64 body

A secret is never written in the TOML itself: each secret field ``F`` takes ``F_env = "NAME"``
(an environment variable) or ``F_file = "path"`` (a file holding it, relative to the TOML
file); ``F = "..."`` is refused with an error saying so. Secrets are resolved only when a
provider is used (:meth:`Config.client`), so a missing variable of one account does not stop
the others.

Kinds (:data:`KINDS`): ``dotgo``, ``dotgo_google``, ``maap``, ``orange``, ``smsbox``,
``google``; their settings are the keyword arguments of the matching config class
(:class:`~rcskit.providers.dotgo.DotgoConfig` ...). Every kind also takes ``timeout``
(seconds per request), ``region`` (for national numbers) and ``tps`` (client pacing).

A built-in provider named ``emulator`` (:data:`EMULATOR_PROFILE`) points at the local
emulator's Dotgo bot on ``http://127.0.0.1:8000`` (or ``RCSKIT_EMULATOR_URL``); its client
secret comes from ``RCSKIT_EMULATOR_CLIENT_SECRET`` or is the demo secret
:data:`EMULATOR_DEMO_SECRET`. A
``[providers.emulator]`` table replaces it.

:func:`load_config` takes the environment as an argument (the CLI passes ``os.environ``):
this module never reads ``os.environ`` itself.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from ..client import RcsClient
from ..emulator.config import DEMO_CLIENT_SECRET
from ..providers import registry
from ..providers.base import ProviderConfig
from ..ratelimit import DotgoWindowLimiter, RateLimiter, TokenBucket
from .options import DEFAULT_CONFIG_FILE

__all__ = [
    "DEFAULT_PATH",
    "EMULATOR_BOT_ID",
    "EMULATOR_CLIENT_ID",
    "EMULATOR_DEMO_SECRET",
    "EMULATOR_PROFILE",
    "EMULATOR_SECRET_ENV",
    "EMULATOR_URL",
    "EMULATOR_URL_ENV",
    "KINDS",
    "Config",
    "ConfigError",
    "Kind",
    "ProviderEntry",
    "SecretRef",
    "emulator_entry",
    "load_config",
]

DEFAULT_PATH = DEFAULT_CONFIG_FILE
"""The file the CLI reads when ``--config`` is not given (if it exists)."""

EMULATOR_PROFILE = "emulator"
EMULATOR_URL = "http://127.0.0.1:8000"
EMULATOR_BOT_ID = "OsOsQ0GwNvUdLTV9Bd"
EMULATOR_CLIENT_ID = "dotgo-demo-client"
EMULATOR_SECRET_ENV = "RCSKIT_EMULATOR_CLIENT_SECRET"
EMULATOR_URL_ENV = "RCSKIT_EMULATOR_URL"
"""Where the built-in ``emulator`` provider finds the emulator when it is not on
:data:`EMULATOR_URL` (``rcskit emulator --port 9000`` → ``http://127.0.0.1:9000``)."""
EMULATOR_DEMO_SECRET = DEMO_CLIENT_SECRET
"""The demo client secret of the emulator's Dotgo bot when ``RCSKIT_EMULATOR_CLIENT_SECRET``
is not set (a local development credential, not a secret)."""


class ConfigError(ValueError):
    """The configuration is invalid or a secret cannot be resolved; the message names the
    file, the provider and the key (never a secret's value)."""


# ---------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Kind:
    """What a ``kind = "..."`` provider table may hold.

    ``settings`` maps each allowed non-secret key to its accepted types; ``required`` the
    keys that must be present; ``secrets`` the secret fields (given as ``F_env`` /
    ``F_file``); ``one_secret_of``: exactly one of the secrets is required (else all are).
    """

    name: str
    build: Callable[..., ProviderConfig]
    settings: Mapping[str, tuple[type, ...]]
    required: frozenset[str]
    secrets: tuple[str, ...]
    one_secret_of: bool = False


_S = (str,)
_I = (int,)
_F = (int, float)
_B = (bool,)

_CLIENT_OPTIONS: Mapping[str, tuple[type, ...]] = {"timeout": _F, "region": _S, "tps": _F}
"""Keys every kind takes; they configure the :class:`~rcskit.client.RcsClient`."""

KINDS: Mapping[str, Kind] = {
    s.name: Kind(s.name, s.config, f.settings, f.required, f.secrets, f.one_secret_of)
    for s in registry.all()
    for f in (s.config_fields(),)
}
"""Every provider kind a ``rcskit.toml`` table may name, with the keys of its config class
(:meth:`rcskit.providers.registry.ProviderSpec.config_fields`)."""


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class SecretRef:
    """Where the secret field ``name`` comes from: an environment variable ``env`` (its value
    captured at load time as ``value``) or a ``file``; ``default`` when neither yields one
    (the emulator's demo secret)."""

    name: str
    env: str | None = None
    file: Path | None = None
    value: SecretStr | None = field(default=None, repr=False)
    default: SecretStr | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ProviderEntry:
    """One named provider: its kind, non-secret settings, client options and secrets."""

    name: str
    kind: str
    settings: Mapping[str, Any]
    options: Mapping[str, Any]
    secrets: Mapping[str, SecretRef]
    where: str


@dataclass(frozen=True)
class Config:
    """Named provider accounts (``rcskit.toml`` plus the built-in ``emulator``)."""

    providers: Mapping[str, ProviderEntry]
    default_provider: str | None = None
    source: str | None = None

    @property
    def names(self) -> list[str]:
        """The provider names, sorted."""
        return sorted(self.providers)

    def emulator_admin_url(self) -> str:
        """The admin API of the emulator the ``emulator`` provider points at."""
        root = str(self.providers[EMULATOR_PROFILE].settings["server_root"])
        base = root.removesuffix("/dotgo/rcs")
        return f"{base}/_emulator"

    def emulator_bot_id(self) -> str:
        """The emulator bot the ``emulator`` provider sends as."""
        return str(self.providers[EMULATOR_PROFILE].settings["bot_id"])

    def resolve_name(self, name: str | None = None) -> str:
        """``name`` if configured; without one the ``default_provider``, else the only
        provider of the file, else ``emulator`` when the file names none."""
        if name is not None:
            if name not in self.providers:
                raise ConfigError(f"unknown provider {name!r}; configured: {', '.join(self.names)}")
            return name
        if self.default_provider is not None:
            return self.default_provider
        own = [n for n in self.names if n != EMULATOR_PROFILE]
        if not own:
            return EMULATOR_PROFILE
        if len(own) == 1:
            return own[0]
        raise ConfigError(
            f"several providers are configured ({', '.join(own)}): pass --provider or set "
            "default_provider in rcskit.toml"
        )

    def provider_config(self, name: str | None = None) -> ProviderConfig:
        """The provider config object of ``name`` with its secrets resolved."""
        entry = self.providers[self.resolve_name(name)]
        kind = KINDS[entry.kind]
        secrets = {
            f: _resolve(ref, entry.where) for f, ref in entry.secrets.items() if ref is not None
        }
        try:
            return kind.build(**entry.settings, **secrets)
        except ValueError as err:  # the config classes name the field
            raise ConfigError(f"{entry.where}: {err}") from None

    def client_options(self, name: str | None = None) -> dict[str, Any]:
        """The :class:`~rcskit.client.RcsClient` keyword arguments of ``name`` (``timeout``,
        ``region``, a ``limiter`` from ``tps``)."""
        entry = self.providers[self.resolve_name(name)]
        options: dict[str, Any] = {}
        for key in ("timeout", "region"):
            if key in entry.options:
                options[key] = entry.options[key]
        tps = entry.options.get("tps")
        if tps is not None:
            limiter: RateLimiter = (
                DotgoWindowLimiter(float(tps))
                if registry.get(entry.kind).rate_rule == "dotgo_window"
                else TokenBucket.per_second(float(tps))
            )
            options["limiter"] = limiter
        return options

    def client(self, name: str | None = None, **options: Any) -> RcsClient:
        """An :class:`~rcskit.client.RcsClient` for provider ``name`` (see
        :meth:`resolve_name`); ``options`` (``transport=`` ...) override the file's."""
        merged = {**self.client_options(name), **options}
        return RcsClient(self.provider_config(name), **merged)


def _resolve(ref: SecretRef, where: str) -> SecretStr | bytes:
    if ref.env is not None:
        if ref.value is not None:
            return ref.value
        if ref.default is not None:
            return ref.default
        raise ConfigError(f"{where}.{ref.name}_env: environment variable {ref.env} is not set")
    if ref.file is not None:
        try:
            data = ref.file.read_bytes()
        except OSError as err:
            raise ConfigError(
                f"{where}.{ref.name}_file: cannot read {ref.file} "
                f"({err.strerror or type(err).__name__})"
            ) from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            if ref.name == "private_key":
                return data  # a DER key file
            raise ConfigError(f"{where}.{ref.name}_file: {ref.file} is not UTF-8 text") from None
        if not text.strip():
            raise ConfigError(f"{where}.{ref.name}_file: {ref.file} is empty")
        return SecretStr(text.rstrip("\r\n"))
    if ref.default is not None:
        return ref.default
    raise ConfigError(f"{where}: {ref.name} has no source")


# ---------------------------------------------------------------- loading


def _type_name(types: tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return " or ".join(dict.fromkeys(names[t] for t in types))


def _check_type(value: Any, types: tuple[type, ...], where: str) -> Any:
    if isinstance(value, bool) and bool not in types:
        raise ConfigError(f"{where}: expected {_type_name(types)}, got {value!r}")
    if not isinstance(value, types):
        shown = repr(value) if isinstance(value, int | float | bool) else type(value).__name__
        raise ConfigError(f"{where}: expected {_type_name(types)}, got {shown}")
    return value


def _secret_ref(
    table: Mapping[str, Any],
    secret_field: str,
    where: str,
    base: Path,
    environ: Mapping[str, str],
) -> SecretRef | None:
    if secret_field in table:
        raise ConfigError(
            f"{where}.{secret_field}: secrets are never read from rcskit.toml; set "
            f'{secret_field}_env = "VARIABLE" (an environment variable holding it) or '
            f'{secret_field}_file = "path" (a file holding it)'
        )
    env = table.get(f"{secret_field}_env")
    path = table.get(f"{secret_field}_file")
    if env is not None and path is not None:
        raise ConfigError(f"{where}: give {secret_field}_env or {secret_field}_file, not both")
    if env is not None:
        name = _check_type(env, _S, f"{where}.{secret_field}_env")
        if not name.strip():
            raise ConfigError(f"{where}.{secret_field}_env: an environment variable name")
        value = environ.get(name)
        return SecretRef(secret_field, env=name, value=SecretStr(value) if value else None)
    if path is not None:
        text = _check_type(path, _S, f"{where}.{secret_field}_file")
        file = Path(text).expanduser()
        return SecretRef(secret_field, file=file if file.is_absolute() else base / file)
    return None


def _entry(
    name: str, table: Any, where: str, base: Path, environ: Mapping[str, str]
) -> ProviderEntry:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table ([providers.{name}])")
    kind_name = table.get("kind")
    if kind_name is None:
        raise ConfigError(f"{where}.kind is required (one of {', '.join(KINDS)})")
    if not isinstance(kind_name, str) or kind_name not in KINDS:
        raise ConfigError(f"{where}.kind: {kind_name!r} is not one of {', '.join(KINDS)}")
    kind = KINDS[kind_name]
    secret_keys = {k for f in kind.secrets for k in (f, f"{f}_env", f"{f}_file")}
    secrets: dict[str, SecretRef] = {}
    for secret_field in kind.secrets:
        ref = _secret_ref(table, secret_field, where, base, environ)
        if ref is not None:
            secrets[secret_field] = ref
    settings: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key == "kind" or key in secret_keys:
            continue
        if key in kind.settings:
            settings[key] = _check_type(value, kind.settings[key], f"{where}.{key}")
        elif key in _CLIENT_OPTIONS:
            options[key] = _check_type(value, _CLIENT_OPTIONS[key], f"{where}.{key}")
        else:
            allowed = sorted(
                [
                    *kind.settings,
                    *_CLIENT_OPTIONS,
                    *(f"{f}_{how}" for f in kind.secrets for how in ("env", "file")),
                ]
            )
            raise ConfigError(
                f"{where}.{key}: unknown setting for kind {kind_name!r}; known: "
                + ", ".join(allowed)
            )
    missing = sorted(kind.required - settings.keys())
    if missing:
        raise ConfigError(f"{where}: {', '.join(missing)} required for kind {kind_name!r}")
    if kind.one_secret_of:
        if len(secrets) != 1:
            choices = " or ".join(f"{f}_env / {f}_file" for f in kind.secrets)
            raise ConfigError(f"{where}: give exactly one secret: {choices}")
    else:
        for secret_field in kind.secrets:
            if secret_field not in secrets:
                raise ConfigError(
                    f"{where}: {secret_field} is required: set {secret_field}_env = "
                    f'"VARIABLE" or {secret_field}_file = "path"'
                )
    return ProviderEntry(name, kind_name, settings, options, secrets, where)


def emulator_entry(environ: Mapping[str, str], url: str = EMULATOR_URL) -> ProviderEntry:
    """The built-in ``emulator`` provider: the emulator's Dotgo bot at ``url``."""
    value = environ.get(EMULATOR_SECRET_ENV)
    ref = SecretRef(
        "client_secret",
        env=EMULATOR_SECRET_ENV,
        value=SecretStr(value) if value else None,
        default=SecretStr(EMULATOR_DEMO_SECRET),
    )
    return ProviderEntry(
        EMULATOR_PROFILE,
        "dotgo",
        {
            "bot_id": EMULATOR_BOT_ID,
            "client_id": EMULATOR_CLIENT_ID,
            "server_root": f"{url}/dotgo/rcs",
            "auth_url": f"{url}/dotgo/auth/oauth/token",
        },
        {},
        {"client_secret": ref},
        f"built-in provider {EMULATOR_PROFILE!r}",
    )


def emulator_url(environ: Mapping[str, str]) -> str:
    """The emulator's base URL: ``RCSKIT_EMULATOR_URL`` if set (an ``http(s)://host:port``
    URL, a trailing ``/`` ignored), else :data:`EMULATOR_URL`."""
    value = environ.get(EMULATOR_URL_ENV)
    if value is None or not value.strip():
        return EMULATOR_URL
    url = value.strip().rstrip("/")
    scheme, sep, rest = url.partition("://")
    if scheme not in ("http", "https") or not sep or not rest or any(c in rest for c in "?#"):
        raise ConfigError(
            f"{EMULATOR_URL_ENV}: expected the emulator's base URL like http://127.0.0.1:9000, "
            f"not {value!r}"
        )
    return url


def load_config(path: str | Path | None, environ: Mapping[str, str]) -> Config:
    """Read ``path`` (``None``: no file, only the built-in ``emulator``) with secrets from
    ``environ``. Raises :class:`ConfigError` naming the file, provider and key at fault.

    Only the variables a provider names are kept (and the emulator's); secret files are
    read when the provider is used.
    """
    providers: dict[str, ProviderEntry] = {
        EMULATOR_PROFILE: emulator_entry(environ, emulator_url(environ))
    }
    if path is None:
        return Config(providers)
    file = Path(path)
    source = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except OSError as err:
        raise ConfigError(f"{source}: cannot read ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML ({err})") from None
    tables = data.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{source}: providers must be a table ([providers.NAME])")
    base = file.parent
    for name, table in tables.items():
        providers[name] = _entry(name, table, f"{source}: providers.{name}", base, environ)
    default = data.get("default_provider")
    if default is not None:
        _check_type(default, _S, f"{source}: default_provider")
        if default not in providers:
            raise ConfigError(
                f"{source}: default_provider {default!r} is not configured; configured: "
                + ", ".join(sorted(providers))
            )
    return Config(providers, default, source)
