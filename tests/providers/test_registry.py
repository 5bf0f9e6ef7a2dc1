"""The provider registry: one description per provider, and the facts derived from it."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

import pytest

from rcskit import limits
from rcskit.inbound.verify import GoogleSignature, IpAllowList, StaticToken, WebhookRequest
from rcskit.providers import (
    DotgoConfig,
    DotgoGoogleConfig,
    MaapConfig,
    capability_table,
    registry,
)
from rcskit.providers.base import OPERATIONS
from rcskit.providers.registry import BulkCheck, ProviderSpec

EVERY = ("dotgo", "dotgo_google", "google", "maap", "orange", "smsbox")


def test_names_are_every_provider_module_sorted() -> None:
    assert registry.names() == EVERY
    assert tuple(s.name for s in registry.all()) == EVERY
    assert all(isinstance(s, ProviderSpec) for s in registry.all())


def test_get_returns_the_spec_and_refuses_an_unknown_name_listing_the_valid_ones() -> None:
    spec = registry.get("dotgo_google")
    assert (spec.title, spec.config, spec.wire_format) == (
        "Dotgo, Google API",
        DotgoGoogleConfig,
        "google",
    )
    assert registry.find("nope") is None
    with pytest.raises(ValueError, match="unknown provider 'nope'") as info:
        registry.get("nope")
    for name in EVERY:
        assert name in str(info.value)


@pytest.mark.parametrize("name", EVERY)
def test_each_spec_names_a_real_limits_profile_and_the_config_of_its_name(name: str) -> None:
    spec = registry.get(name)
    assert limits.profile(spec.limits_profile).name == spec.limits_profile
    assert spec.config.name == name  # type: ignore[attr-defined]
    assert spec.operations <= set(OPERATIONS) and "send" in spec.operations
    assert spec.emulator_flavour  # the emulator's own flavour name


def test_dotgo_google_is_checked_against_its_own_text_limit() -> None:
    dotgo = limits.profile(registry.get("dotgo").limits_profile)
    google = limits.profile(registry.get("dotgo_google").limits_profile)
    assert google.max_text_chars == 3072 and dotgo.max_text_chars != google.max_text_chars


@pytest.mark.parametrize(
    "cfg",
    [
        DotgoConfig("bot", "c", "s"),
        DotgoGoogleConfig("bot", "c", "s"),
        MaapConfig("https://m.example", "bot", token="t"),
    ],
)
def test_bound_provider_takes_its_facts_from_the_spec(cfg: Any) -> None:
    spec = registry.get(cfg.name)
    bound = cfg.provider()
    assert bound.offers == spec.operations
    assert bound.limits_profile == spec.limits_profile
    assert bound.templates == spec.templates
    assert bound.client_message_ids == spec.dedupes_message_id


def test_capability_table_is_the_specs_operations() -> None:
    for name, row in capability_table():
        assert {op for op, offered in row.items() if offered} == registry.get(name).operations


def test_idempotency_facts() -> None:
    dedupes = {s.name for s in registry.all() if s.dedupes_message_id}
    assert dedupes == {"google", "dotgo_google"}
    assert not any(s.status_lookup for s in registry.all())  # documented nowhere: safe value


def test_bulk_checks_and_pacing() -> None:
    orange = registry.get("orange").bulk_check
    assert orange is not None
    assert (orange.window_start, orange.window_end, orange.window_zone) == (
        time(22),
        time(7),
        "Europe/Paris",
    )
    smsbox = registry.get("smsbox").bulk_check
    assert smsbox is not None and (smsbox.max_numbers, smsbox.window_zone) == (500, None)
    assert registry.get("maap").bulk_check is None
    assert {s.name for s in registry.all() if s.rate_rule == "dotgo_window"} == {
        "dotgo",
        "dotgo_google",
    }


def test_default_verifiers_are_what_each_provider_documents() -> None:
    google = registry.get("google").default_verifier
    maap = registry.get("maap").default_verifier
    smsbox = registry.get("smsbox").default_verifier
    assert google is not None and isinstance(google("token"), GoogleSignature)
    assert maap is not None and isinstance(maap("token"), StaticToken)
    assert smsbox is not None and isinstance(smsbox(), IpAllowList)
    smsbox().verify(WebhookRequest(b"{}", {}, "37.59.198.135", "POST"))
    for name in ("dotgo", "dotgo_google", "orange"):
        assert registry.get(name).default_verifier is None


def test_campaign_options_build_the_named_config() -> None:
    kinds = {s.name for s in registry.all() if s.campaign_options is not None}
    assert kinds == {"dotgo", "dotgo_google", "maap"}
    build = registry.get("dotgo_google").campaign_options
    assert build is not None
    cfg = build("bot", "client", "secret", None, None)
    assert isinstance(cfg, DotgoGoogleConfig) and cfg.bot_id == "bot"
    maap = registry.get("maap").campaign_options
    assert maap is not None
    with pytest.raises(ValueError, match="server_root is required"):
        maap("bot", "client", "secret", None, None)


def _spec(**changes: Any) -> ProviderSpec:
    return dataclasses.replace(registry.get("maap"), **changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"operations": frozenset({"send", "fly"})}, "unknown operations"),
        ({"wire_format": "xml"}, "wire_format 'xml' is not one of google, gsma"),
        ({"webhook_format": "x"}, "webhook_format 'x'"),
        ({"rate_rule": "fast"}, "rate_rule 'fast'"),
        ({"name": "Acme"}, "lower-case identifier"),
        ({"operations": frozenset({"send", "bulk_capabilities"})}, "bulk_check is required"),
        ({"campaigns": False}, "campaign_options given but campaigns is False"),
    ],
)
def test_a_bad_spec_is_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _spec(**changes)


def test_bulk_window_is_all_or_nothing() -> None:
    with pytest.raises(ValueError, match="together"):
        BulkCheck(10, window_start=time(22))
    with pytest.raises(ValueError, match="max_numbers"):
        BulkCheck(0)


def test_config_fields_are_read_from_the_config_class() -> None:
    maap = registry.get("maap").config_fields()
    assert maap.secrets == ("client_secret", "token") and maap.one_secret_of
    assert maap.required == {"server_root", "bot_id"}
    assert maap.settings["api_path"] == (str,) and "client_secret" not in maap.settings
    orange = registry.get("orange").config_fields()
    assert orange.secrets == ("authorization_header", "private_key") and not orange.one_secret_of
    assert orange.settings["bulk_poll_interval"] == (int, float)
    assert orange.settings["enforce_bulk_window"] == (bool,)
    assert not {"bulk_window", "clock", "monotonic", "key"} & set(orange.settings)
    google = registry.get("google").config_fields()
    assert google.secrets == ("service_account",) and google.required == {"agent_id"}
    assert google.settings["file_style"] == (str,)  # a Literal of strings
    smsbox = registry.get("smsbox").config_fields()
    assert smsbox.settings["default_validity_minutes"] == (int,)  # int | None


def test_webhook_json_documented_only_where_the_docs_say_so() -> None:
    documented = {s.name for s in registry.all() if s.webhook_json_documented}
    assert documented == {"google", "smsbox"}


def test_each_emulator_flavour_named_is_one_the_emulator_has() -> None:
    from rcskit.emulator.config import PROVIDERS as EMULATOR_FLAVOURS

    assert {s.emulator_flavour for s in registry.all()} <= set(EMULATOR_FLAVOURS)
