"""The status lookup by our message id, end to end in one process: a campaign runner (SQLite
store) against the fake Dotgo platform on 127.0.0.1, with lost answers and cut connections.

With the account's opt-in (``DotgoConfig(client_message_ids=True)``) every recipient ends
``sent`` exactly once: a lost answer is found by the lookup, a request that never arrived
(404) is sent again. Without it (the registry's default) a lost answer stays ``unknown``.
The facts themselves: :func:`rcskit.campaign.delivery.delivery_facts`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rcskit.campaign import (
    CsvFallbackSender,
    MessageTemplate,
    ProviderSettings,
    Runner,
    RunOptions,
    create_campaign,
)
from rcskit.campaign.delivery import delivery_facts
from rcskit.campaign.sends import CampaignSends
from rcskit.campaign.settings import CampaignSettings
from rcskit.client import RcsClient
from rcskit.providers.dotgo import DotgoConfig
from rcskit.providers.dotgo_google import DotgoGoogleConfig
from rcskit.providers.maap import MaapConfig
from rcskit.retry import NO_RETRY
from rcskit.store import Store, deterministic_id
from tests.chaos.conftest import Serve
from tests.chaos.fake_provider import FakeDotgo, Faults

COUNT = 40
CAMPAIGN_ID = "lookup"


def _config(base: str, opt_in: bool) -> DotgoConfig:
    return DotgoConfig(
        "chaosbot",
        "chaos-client",
        "chaos-secret",
        server_root=f"{base}/rcs",
        auth_url=f"{base}/auth/oauth/token",
        client_message_ids=opt_in,
    )


async def _run(tmp_path: Path, base: str, *, opt_in: bool) -> dict[str, int]:
    """Create and run a campaign of ``COUNT`` recipients to its end; the statuses."""
    recipients = tmp_path / "r.csv"
    recipients.write_text(
        "phone,first_name\n" + "".join(f"+1555{i:07d},Ada{i}\n" for i in range(COUNT)),
        encoding="utf-8",
    )
    store = await Store.open(str(tmp_path / "lookup.db"))
    try:
        campaign = await create_campaign(
            store,
            name="lookup",
            provider=ProviderSettings("dotgo", "chaosbot", "chaos-client", f"{base}/rcs"),
            csv=recipients,
            message=MessageTemplate.from_json(
                json.dumps({"content": {"kind": "text", "text": "Hi {first_name}"}}),
                source="m.json",
            ),
            tps=1000,
            capabilities="none",
            fallback=f"csv:{tmp_path / 'fallback.csv'}",
            retry_max_delay=0.05,
            id=CAMPAIGN_ID,
        )
        async with RcsClient(_config(base, opt_in), retry=NO_RETRY, timeout=5.0) as client:
            runner = Runner(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                options=RunOptions(concurrency=8, max_attempts=20),
            )
            summary = await runner.run()
        assert summary.finished
        counts = await CampaignSends(store).campaign_counts(campaign.id)
        return {s.value: n for s, n in counts.recipients.items() if n}
    finally:
        await store.close()


async def test_lost_answers_are_found_by_the_lookup_and_never_sent_twice(
    tmp_path: Path, serve: Serve
) -> None:
    platform = FakeDotgo(tps=1000, faults=Faults(rate_lost=0.3), seed=3)
    base = await serve(platform)
    statuses = await _run(tmp_path, base, opt_in=True)
    report = platform.report()
    assert statuses == {"sent": COUNT}
    assert report["faults"]["lost"] > 0
    assert platform.ledger.status_lookups["found"] == report["faults"]["lost"]
    assert set(report["per_recipient"].values()) == {1}
    assert len(report["per_recipient"]) == COUNT
    assert report["duplicates"] == 0 and report["ignored"] == 0
    ours = {deterministic_id(CAMPAIGN_ID, f"+1555{i:07d}") for i in range(COUNT)}
    assert set(platform.ledger.deliveries) == ours  # our ids in RCSMessage.msgId


async def test_requests_cut_before_acceptance_are_looked_up_then_sent_again(
    tmp_path: Path, serve: Serve
) -> None:
    platform = FakeDotgo(tps=1000, faults=Faults(rate_timeout=0.3, timeout_s=0.05), seed=5)
    base = await serve(platform)
    statuses = await _run(tmp_path, base, opt_in=True)
    report = platform.report()
    assert statuses == {"sent": COUNT}
    assert report["faults"]["timeout"] > 0
    assert platform.ledger.status_lookups["not_found"] >= report["faults"]["timeout"]
    assert set(report["per_recipient"].values()) == {1}
    assert len(report["per_recipient"]) == COUNT


async def test_without_the_opt_in_a_lost_answer_stays_unknown_and_no_id_is_sent(
    tmp_path: Path, serve: Serve
) -> None:
    platform = FakeDotgo(tps=1000, faults=Faults(rate_lost=0.3), seed=3)
    base = await serve(platform)
    statuses = await _run(tmp_path, base, opt_in=False)
    lost = platform.report()["faults"]["lost"]
    assert lost > 0
    assert statuses == {"sent": COUNT - lost, "unknown": lost}
    assert not platform.ledger.status_lookups
    # the platform assigned every id: none of ours went out
    ours = {deterministic_id(CAMPAIGN_ID, f"+1555{i:07d}") for i in range(COUNT)}
    assert not ours & set(platform.ledger.deliveries)


def test_the_effective_facts_are_the_registrys_unless_the_account_opts_in() -> None:
    gsma = _config("http://127.0.0.1:1", opt_in=False).provider()
    assert not gsma.client_message_ids
    plain = delivery_facts(gsma)
    assert not plain.status_lookup and not plain.dedupes_message_id and not plain.keeps_client_id
    opted = delivery_facts(_config("http://127.0.0.1:1", opt_in=True).provider())
    assert opted.status_lookup and not opted.dedupes_message_id and opted.keeps_client_id
    maap = MaapConfig("http://127.0.0.1:1", "bot", token="t", client_message_ids=True)
    assert delivery_facts(maap.provider()).status_lookup
    default = MaapConfig("http://127.0.0.1:1", "bot", token="t")
    assert not delivery_facts(default.provider()).status_lookup
    google = DotgoGoogleConfig("bot", "client", "secret").provider()
    facts = delivery_facts(google)
    assert facts.dedupes_message_id and not facts.status_lookup


def test_retry_max_delay_is_stored_with_the_campaign_and_checked() -> None:
    settings = CampaignSettings(
        provider=ProviderSettings("dotgo", "b", "c"),
        csv="r.csv",
        csv_fingerprint="",
        phone_column="phone",
        retry_max_delay=2.5,
    )
    assert CampaignSettings.from_options(settings.to_options()).retry_max_delay == 2.5
    old: dict[str, Any] = settings.to_options()
    del old["retry_max_delay"]
    assert CampaignSettings.from_options(old).retry_max_delay == 60.0
    for bad in (0.0, -1.0, float("nan"), 86401.0):
        with pytest.raises(Exception, match="retry_max_delay"):
            CampaignSettings.from_options({**old, "retry_max_delay": bad})
