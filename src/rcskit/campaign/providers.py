"""Which provider account a campaign sends through, and the client for it.

A campaign names its provider in one of two ways, stored in its options without any secret:

* :class:`NamedProvider`: a provider of the rcskit configuration (``rcskit.toml``, see
  :mod:`rcskit.cli.config`), or the built-in ``emulator``. Each run loads the configuration again,
  so secrets come from where the file says (environment variables, secret files);
* :class:`ProviderSettings`: a Dotgo or MaaP account given with options (kind, bot id,
  client id, URLs); each run takes the secret from ``--client-secret`` or
  ``RCSKIT_CLIENT_SECRET``.

The command line resolves what the user named (``rcskit campaign create --provider``) and turns
it back into a client config at run time (:mod:`rcskit.cli.campaign`, the only part that reads
the configuration and the environment).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import SecretStr

from ..auth import Auth
from ..client import RcsClient
from ..providers import registry
from ..providers.base import ProviderConfig
from ..ratelimit import RateLimiter
from ..retry import RetryPolicy
from ..transport import Transport
from .errors import CampaignError

__all__ = [
    "KINDS",
    "NamedProvider",
    "ProviderRef",
    "ProviderSettings",
    "build_client",
    "provider_from_json",
]

KINDS = tuple(s.name for s in registry.all() if s.campaign_options is not None)
"""Provider kinds a campaign can be given with options (any configured kind works by name):
those whose :class:`~rcskit.providers.registry.ProviderSpec` has ``campaign_options``."""


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """A provider account given with options, without its secret: what a campaign stores."""

    kind: str
    bot_id: str
    client_id: str
    server_root: str | None = None
    auth_url: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CampaignError(f"provider kind {self.kind!r}: one of {', '.join(KINDS)}")
        if not self.bot_id or not self.client_id:
            raise CampaignError(f"provider {self.kind}: a bot id and a client id are required")
        if self.kind == "maap" and not self.server_root:
            raise CampaignError("provider maap: --server-root is required (no default host)")

    @property
    def name(self) -> str:
        """The name the campaign records: the kind."""
        return self.kind

    def to_json(self) -> dict[str, Any]:
        """As stored in the campaign's options."""
        return {"source": "options", **{k: v for k, v in asdict(self).items() if v is not None}}

    def config(self, secret: SecretStr | str) -> ProviderConfig:
        """The client config for these settings with ``secret``."""
        if not (secret.get_secret_value() if isinstance(secret, SecretStr) else secret):
            raise CampaignError(
                f"provider {self.kind}: no client secret: set RCSKIT_CLIENT_SECRET or pass "
                "--client-secret"
            )
        build = registry.get(self.kind).campaign_options
        assert build is not None  # the kind is one of KINDS, checked in __post_init__
        try:
            return build(self.bot_id, self.client_id, secret, self.server_root, self.auth_url)
        except (TypeError, ValueError) as err:
            raise CampaignError(f"provider {self.kind}: {err}") from None


@dataclass(frozen=True, slots=True)
class NamedProvider:
    """A provider of the rcskit configuration: its ``name``, the configuration file
    (``None``: none, only the built-in ``emulator``), and its ``kind`` (for pacing)."""

    name: str
    config_file: str | None
    kind: str

    def to_json(self) -> dict[str, Any]:
        """As stored in the campaign's options."""
        return {
            "source": "config",
            "name": self.name,
            "config_file": self.config_file,
            "kind": self.kind,
        }


ProviderRef = ProviderSettings | NamedProvider
"""How a campaign names its provider."""


def provider_from_json(data: Mapping[str, Any]) -> ProviderRef:
    """Read back ``to_json`` of either kind of :data:`ProviderRef`."""
    if data.get("source") == "config":
        return NamedProvider(str(data["name"]), data.get("config_file"), str(data["kind"]))
    return ProviderSettings(
        kind=str(data["kind"]),
        bot_id=str(data["bot_id"]),
        client_id=str(data["client_id"]),
        server_root=data.get("server_root"),
        auth_url=data.get("auth_url"),
    )


def build_client(
    config: ProviderConfig,
    *,
    limiter: RateLimiter | Mapping[str, RateLimiter] | None = None,
    transport: Transport | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
    auth: Auth | None = None,
) -> RcsClient:
    """An :class:`~rcskit.client.RcsClient` for ``config`` (``auth``: share a token flow
    between clients)."""
    return RcsClient(config, auth=auth, limiter=limiter, transport=transport, retry=retry,
                     timeout=timeout)  # fmt: skip
