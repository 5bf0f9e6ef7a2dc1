"""How a client reaches each provider's demo bot on a running emulator: one builder per provider.

A builder turns the emulator's base URL and the bot it serves for that provider into the
keyword arguments of the provider's config class (the same settings a ``rcskit.toml`` would
give). Builders register themselves with :func:`account`; :func:`config_for` builds the config
through :mod:`rcskit.providers.registry`. A provider without a builder here cannot be used by
:class:`rcskit.testing.Emulator` (a test checks that every provider of the registry has one).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from ..emulator.config import BotConfig
from ..providers import registry
from ..providers.base import ProviderConfig

__all__ = ["account", "builders", "config_for"]

Builder = Callable[[str, BotConfig], dict[str, Any]]

_BUILDERS: dict[str, Builder] = {}


def account(kind: str) -> Callable[[Builder], Builder]:
    """Register the settings builder of provider ``kind`` (a registry name).

    ::

        @account("acme")
        def _acme(base: str, bot: BotConfig) -> dict[str, Any]:
            return {"bot_id": bot.id, "server_root": f"{base}/acme"}
    """
    registry.get(kind)  # an unknown name fails here, at import

    def register(builder: Builder) -> Builder:
        _BUILDERS[kind] = builder
        return builder

    return register


def builders() -> dict[str, Builder]:
    """Every registered builder, by provider name."""
    return dict(_BUILDERS)


def config_for(kind: str, base: str, bot: BotConfig, **overrides: Any) -> ProviderConfig:
    """The config of provider ``kind`` for ``bot`` on the emulator at ``base`` (no trailing
    slash); ``overrides`` replace or add config arguments (``timeout=...``)."""
    spec = registry.get(kind)
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"rcskit.testing has no account builder for provider {kind!r}")
    settings = {**builder(base, bot), **overrides}
    config: ProviderConfig = spec.config(**settings)
    return config


def _secret(bot: BotConfig, field: str) -> str:
    value = getattr(bot, field)
    if value is None:
        raise ValueError(f"emulator bot {bot.id} has no {field}")
    return str(value.get_secret_value())


def _dotgo(base: str, bot: BotConfig) -> dict[str, Any]:
    return {
        "bot_id": bot.id,
        "client_id": bot.client_id,
        "client_secret": _secret(bot, "client_secret"),
        "server_root": f"{base}/dotgo/rcs",
        "auth_url": f"{base}/dotgo/auth/oauth/token",
    }


account("dotgo")(_dotgo)
account("dotgo_google")(_dotgo)


@account("maap")
def _maap(base: str, bot: BotConfig) -> dict[str, Any]:
    return {
        "bot_id": bot.id,
        "server_root": f"{base}/maap",
        "client_secret": _secret(bot, "client_secret"),
    }


@account("orange")
def _orange(base: str, bot: BotConfig) -> dict[str, Any]:
    basic = base64.b64encode(f"{bot.client_id}:{_secret(bot, 'client_secret')}".encode())
    return {
        "bot_id": bot.id,
        "token_url": f"{base}/orange/oauth/v3/token",
        "api_url": f"{base}/orange/bothub/v1",
        "authorization_header": f"Basic {basic.decode()}",
        "private_key": _secret(bot, "private_key"),
    }


@account("smsbox")
def _smsbox(base: str, bot: BotConfig) -> dict[str, Any]:
    return {"agent_id": bot.id, "base_url": f"{base}/smsbox", "api_key": _secret(bot, "api_key")}


@account("google")
def _google(base: str, bot: BotConfig) -> dict[str, Any]:
    key_file = {
        "type": "service_account",
        "client_email": bot.client_id,
        "private_key": _secret(bot, "private_key"),
        "token_uri": f"{base}/google/token",
    }
    return {
        "agent_id": bot.google_agent_id,
        "api_url": f"{base}/google",
        "service_account": json.dumps(key_file),
    }
