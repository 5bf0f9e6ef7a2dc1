"""The provider registry: one :class:`ProviderSpec` per provider, the one place provider facts live.

::

    from rcskit.providers import registry

    spec = registry.get("dotgo_google")        # unknown name: ValueError naming the valid ones
    spec.limits_profile, spec.wire_format       # ('dotgo_google', 'google')
    registry.names()                            # ('dotgo', 'dotgo_google', 'google', ...)
    [s.name for s in registry.all() if "send_many" in s.operations]

Every per-provider table of rcskit is derived from these descriptions: the capability matrix
(:func:`capability_table`, :func:`capability_markdown`), the configuration kinds, the limits
profile a message is checked against, the webhook parser and default verifier
(:mod:`rcskit.inbound`), template support, campaign support, pacing and bulk capability checks,
and the idempotency facts the campaign engine relies on.

**Adding a provider is one module plus its fixtures.** Write ``rcskit/providers/acme.py``
with its config class, its pure request builders and response parsers (see
:mod:`rcskit.providers.base`), and a module-level ``SPEC``::

    SPEC = ProviderSpec(
        name="acme",
        title="Acme RCS",
        config=AcmeConfig,
        limits_profile="gsma",
        wire_format="gsma",
        operations=frozenset({"send", "status", "capabilities"}),
        templates=False,
        webhook_format="gsma",
        default_verifier=None,
        campaigns=True,
        dedupes_message_id=False,      # say where this fact comes from, in the docstring
        status_lookup=False,
        emulator_flavour="maap",
    )

then its golden fixtures under ``tests/data/``. :func:`all` finds the module (every module of
this package with a ``SPEC`` is a provider); the CLI, the configuration file, the campaign
engine and the webhook app then know it. The emulator is separate by design: it never imports
this package, and a flavour of its own is written there.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import importlib
import pkgutil
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from .base import OPERATIONS, ProviderConfig

if TYPE_CHECKING:
    from ..inbound.verify import Verifier

__all__ = [
    "RATE_RULES",
    "WEBHOOK_FORMATS",
    "WIRE_FORMATS",
    "BulkCheck",
    "ConfigFields",
    "ProviderSpec",
    "all",
    "capability_markdown",
    "capability_table",
    "config_fields",
    "find",
    "get",
    "names",
]

WIRE_FORMATS = frozenset({"gsma", "google"})
"""Message formats on the wire: GSMA MaaP ``RCSMessage`` or Google RBM ``contentMessage``."""

WEBHOOK_FORMATS = frozenset({"gsma", "google", "orange", "smsbox"})
"""The :mod:`rcskit.inbound` parser modules a provider's webhooks can be read by."""

RATE_RULES = frozenset({"even", "dotgo_window"})
"""How sends are paced: ``even`` (evenly spaced, a token bucket) or ``dotgo_window``
(Dotgo's 30-second windows with 20 % spikes, seed 002 section 6)."""


@dataclass(frozen=True, slots=True)
class BulkCheck:
    """A provider's bulk capability check: numbers per request, request pace, allowed window.

    ``window_start``/``window_end`` (local times in ``window_zone``) bound the daily window in
    which the provider accepts bulk checks (``None``: any time); ``source`` cites the facts.
    """

    max_numbers: int
    requests_per_minute: float | None = None
    window_start: time | None = None
    window_end: time | None = None
    window_zone: str | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if self.max_numbers < 1:
            raise ValueError(f"BulkCheck.max_numbers must be >= 1, got {self.max_numbers}")
        bounds = (self.window_start, self.window_end, self.window_zone)
        if any(b is None for b in bounds) and not builtins.all(b is None for b in bounds):
            raise ValueError("BulkCheck: give window_start, window_end and window_zone together")


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything rcskit knows about one provider, outside its request builders.

    - ``name``: the configuration ``kind`` and the CLI choice; ``title``: for people;
    - ``config``: its config class (what :class:`~rcskit.client.RcsClient` is built from;
      the configuration file's keys are its fields);
    - ``limits_profile``: the :mod:`rcskit.limits` profile messages are checked against;
    - ``wire_format``: ``"gsma"`` or ``"google"`` (:data:`WIRE_FORMATS`);
    - ``operations``: the operations it offers (a row of the capability matrix, a subset of
      :data:`~rcskit.providers.base.OPERATIONS`); ``templates``: ``send`` takes registered
      templates;
    - ``webhook_format``: the :mod:`rcskit.inbound` parser of its webhooks
      (:data:`WEBHOOK_FORMATS`); ``billing_events``: its webhooks may also carry Dotgo billing
      events; ``webhook_json_documented``: its documentation states that webhooks are sent as
      ``application/json`` (a bot then refuses other content types);
    - ``default_verifier``: a factory of the verifier its webhooks are checked with when the
      provider documents one (its arguments are the secrets that verifier needs), else
      ``None`` (the provider documents nothing to check);
    - ``campaigns``: campaigns can run on it; ``campaign_options``: a factory
      ``(bot_id, client_id, secret, server_root, auth_url) -> config`` when a campaign can
      name the account with options alone (``rcskit campaign create --provider KIND``);
    - ``dedupes_message_id``: it takes our message id and never delivers one id twice, so a
      resend after a lost answer is safe; ``status_lookup``: a status request by our message
      id tells whether the message arrived (a 404 meaning it never did). Each module's
      ``SPEC`` docstring cites where these two facts come from; where they are not
      documented the safe value ``False`` is chosen;
    - ``rate_rule``: how sends are paced (:data:`RATE_RULES`); ``bulk_check``: its bulk
      capability check (``None`` when it has none);
    - ``emulator_flavour``: the name of the emulator's flavour of this provider (the emulator
      names its flavours itself; this only points at one).
    """

    name: str
    title: str
    config: type
    limits_profile: str
    wire_format: str
    operations: frozenset[str]
    templates: bool
    webhook_format: str
    default_verifier: Callable[..., Verifier] | None
    campaigns: bool
    dedupes_message_id: bool
    status_lookup: bool
    emulator_flavour: str
    billing_events: bool = False
    webhook_json_documented: bool = False
    rate_rule: str = "even"
    bulk_check: BulkCheck | None = None
    campaign_options: Callable[..., ProviderConfig] | None = None

    def __post_init__(self) -> None:
        where = f"ProviderSpec {self.name!r}"
        if not self.name or not self.name.isidentifier() or self.name != self.name.lower():
            raise ValueError(f"{where}: name must be a lower-case identifier")
        unknown = self.operations - set(OPERATIONS)
        if unknown:
            raise ValueError(f"{where}: unknown operations {sorted(unknown)}")
        checks = (
            ("wire_format", self.wire_format, WIRE_FORMATS),
            ("webhook_format", self.webhook_format, WEBHOOK_FORMATS),
            ("rate_rule", self.rate_rule, RATE_RULES),
        )
        for field_name, value, allowed in checks:
            if value not in allowed:
                raise ValueError(
                    f"{where}: {field_name} {value!r} is not one of {', '.join(sorted(allowed))}"
                )
        if ("bulk_capabilities" in self.operations) != (self.bulk_check is not None):
            raise ValueError(f"{where}: bulk_check is required exactly when it offers bulk checks")
        if self.campaign_options is not None and not self.campaigns:
            raise ValueError(f"{where}: campaign_options given but campaigns is False")

    def offers(self, operation: str) -> bool:
        """Whether it offers ``operation`` (a name of :data:`~rcskit.providers.base.OPERATIONS`)."""
        return operation in self.operations

    def config_fields(self) -> ConfigFields:
        """What a configuration file may give for this provider, read from its config class
        (see :class:`ConfigFields`)."""
        return config_fields(self.config)


@dataclass(frozen=True, slots=True)
class ConfigFields:
    """The fields of a provider's config class as a configuration file gives them.

    - ``settings``: each plain setting (a string, number or flag; not a secret, not an
      injected object such as a clock) and the Python types a file may give for it;
    - ``required``: the settings without a default;
    - ``secrets``: the fields typed as secrets (``SecretStr``), in declaration order;
    - ``one_secret_of``: the secrets all have defaults, so exactly one is required (a MaaP takes
      a client secret or a static token); otherwise all are.
    """

    settings: Mapping[str, tuple[type, ...]]
    required: frozenset[str]
    secrets: tuple[str, ...]
    one_secret_of: bool


def _accepted(annotation: Any) -> tuple[type, ...] | None:
    """The types a file may give for a field annotated ``annotation`` (``None``: not a plain
    setting). ``float`` fields take integers too; ``X | None`` takes what ``X`` takes; a
    ``Literal`` of strings is a string."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return (str,) if builtins.all(isinstance(a, str) for a in args) else None
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        return _accepted(args[0]) if len(args) == 1 else None
    plain: dict[Any, tuple[type, ...]] = {str: (str,), int: (int,), float: (int, float)}
    return (bool,) if annotation is bool else plain.get(annotation)


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def config_fields(config: type) -> ConfigFields:
    """The :class:`ConfigFields` of the dataclass ``config`` (a provider's config class)."""
    hints = typing.get_type_hints(config)
    settings: dict[str, tuple[type, ...]] = {}
    required: set[str] = set()
    secrets: list[str] = []
    secret_defaults: list[bool] = []
    for f in dataclasses.fields(config):
        if not f.init:
            continue
        has_default = f.default is not dataclasses.MISSING or (
            f.default_factory is not dataclasses.MISSING
        )
        if _is_secret(hints[f.name]):
            secrets.append(f.name)
            secret_defaults.append(has_default)
            continue
        accepted = _accepted(hints[f.name])
        if accepted is None:
            continue
        settings[f.name] = accepted
        if not has_default:
            required.add(f.name)
    one_of = len(secrets) > 1 and builtins.all(secret_defaults)
    return ConfigFields(settings, frozenset(required), tuple(secrets), one_of)


_SKIPPED_MODULES = frozenset({"base", "registry"})


@functools.cache
def _discover() -> tuple[ProviderSpec, ...]:
    """Every provider module's ``SPEC``, sorted by name (imported once, then remembered)."""
    from .. import providers as package

    found: dict[str, ProviderSpec] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.name in _SKIPPED_MODULES or module.name.startswith("_"):
            continue
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        spec = getattr(loaded, "SPEC", None)
        if not isinstance(spec, ProviderSpec):
            continue
        if spec.name in found:
            raise RuntimeError(f"two provider modules describe {spec.name!r}")
        found[spec.name] = spec
    return tuple(found[name] for name in sorted(found))


def all() -> tuple[ProviderSpec, ...]:
    """Every provider's description, sorted by name."""
    return _discover()


def names() -> tuple[str, ...]:
    """Every provider name (configuration kind), sorted."""
    return tuple(spec.name for spec in _discover())


def find(name: str) -> ProviderSpec | None:
    """The description of provider ``name``, or ``None`` when there is none."""
    for spec in _discover():
        if spec.name == name:
            return spec
    return None


def get(name: str) -> ProviderSpec:
    """The description of provider ``name``; an unknown name raises ``ValueError`` naming the
    valid ones.

    >>> get("dotgo_google").limits_profile
    'dotgo_google'
    """
    spec = find(name)
    if spec is None:
        raise ValueError(f"unknown provider {name!r}; expected one of {', '.join(names())}")
    return spec


def capability_table() -> list[tuple[str, dict[str, bool]]]:
    """Which provider offers what: ``[(provider name, {operation: offered})]``."""
    return [(s.name, {op: op in s.operations for op in OPERATIONS}) for s in _discover()]


def capability_markdown() -> str:
    """:func:`capability_table` as a Markdown table (providers as rows) for the README."""
    head = "| provider | " + " | ".join(f"`{op}`" for op in OPERATIONS) + " |"
    rule = "|---|" + "---|" * len(OPERATIONS)
    rows = [
        f"| {s.title} (`{s.name}`) | "
        + " | ".join("yes" if op in s.operations else "-" for op in OPERATIONS)
        + " |"
        for s in _discover()
    ]
    return "\n".join([head, rule, *rows])
