"""The runner in-process against the emulator (its ASGI app called through AsgiTransport):
capability check through the cache, sends, fallback, quiet hours, Orange's window, and
statuses back through the campaign webhook into the report."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from rcskit.campaign import (
    CapabilityChecker,
    CapabilityMode,
    CsvFallbackSender,
    MessageTemplate,
    ProviderSettings,
    Runner,
    RunOptions,
    RunStopped,
    build_client,
    create_campaign,
    funnel,
    webhook_app,
)
from rcskit.campaign.capcache import CapabilityCache
from rcskit.campaign.pacing import bulk_limiter, send_limiter
from rcskit.campaign.sends import CampaignSends
from rcskit.client import RcsClient
from rcskit.emulator import create_app, user_actions
from rcskit.emulator.config import BotConfig, EmulatorConfig, PhoneRangeConfig
from rcskit.errors import ProviderError
from rcskit.results import BulkCapabilities
from rcskit.retry import NO_RETRY
from rcskit.store import Campaign, RecipientStatus, Store
from rcskit.transport import AsgiTransport, HttpRequest, Transport

from .conftest import free_port, write_recipients

GOOGLE_BOT = "GgL8dP2wXq4RtY7Zb1"
SECRET = "in-process-secret"
CARD = {
    "content": {
        "kind": "card",
        "title": "Spring sale, {first_name}",
        "suggestions": [{"kind": "reply", "text": "Yes", "postback_data": "yes"}],
    },
    "suggestions": [{"kind": "open_url", "text": "Shop", "url": "https://example.com/s"}],
}


def _emulator(count: int, *, webhook: str | None = None) -> Any:
    config = EmulatorConfig(
        bots=[
            BotConfig(
                id=GOOGLE_BOT,
                provider="dotgo_google",
                client_id="g",
                client_secret=SECRET,  # type: ignore[arg-type]
                tps=100_000,
                tpm=600,
                webhook_url=webhook,
            )
        ],
        phone_ranges=[
            PhoneRangeConfig(
                prefix="+1555",
                count=count,
                rcs_ratio=0.8,
                delivered_delay_s=0.05,
                displayed_delay_s=0.1,
            )
        ],
    )
    return create_app(config)


def _settings() -> ProviderSettings:
    return ProviderSettings(
        "dotgo_google", GOOGLE_BOT, "g", "http://emulator/dotgo/rcs",
        "http://emulator/dotgo/auth/oauth/token",
    )  # fmt: skip


@dataclass
class Setup:
    store: Store
    app: Any
    campaign: Campaign
    client: RcsClient
    fallback: Path

    def runner(self, campaign: Campaign | None = None, **kw: Any) -> Runner:
        return Runner(
            self.store,
            campaign or self.campaign,
            self.client,
            CsvFallbackSender(self.fallback),
            limiter=send_limiter("dotgo_google", 5000),
            **kw,
        )


@contextlib.asynccontextmanager
async def _setup(
    tmp_path: Path,
    count: int,
    *,
    webhook: str | None = None,
    clock: Callable[[], datetime] | None = None,
    wrap: Callable[[Transport], Transport] | None = None,
    **create: Any,
) -> AsyncIterator[Setup]:
    app = _emulator(count, webhook=webhook)
    store = await Store.open(str(tmp_path / "runner.db"), clock=clock)
    csv_path = write_recipients(tmp_path / "r.csv", count)
    campaign = await create_campaign(
        store,
        name="spring",
        provider=_settings(),
        csv=csv_path,
        message=MessageTemplate.from_json(json.dumps(CARD), source="card.json"),
        tps=5000,
        fallback=f"csv:{tmp_path / 'fallback.csv'}",
        **create,
    )
    client = build_client(
        _settings().config(SECRET),
        limiter={"bulk": bulk_limiter(600)},
        transport=AsgiTransport(app) if wrap is None else wrap(AsgiTransport(app)),
        retry=NO_RETRY,
    )
    try:
        yield Setup(store, app, campaign, client, tmp_path / "fallback.csv")
    finally:
        await client.aclose()
        await store.close()
        await app.state.emulator.aclose()


def _log(app: Any, marker: str) -> list[Any]:
    return [e for e in app.state.emulator.log if marker in e.target and e.method == "POST"]


async def test_a_campaign_checks_sends_and_falls_back(tmp_path: Path) -> None:
    async with _setup(tmp_path, 300) as s:
        notes: list[str] = []
        runner = s.runner(notify=notes.append)
        summary = await runner.run()
        assert summary.finished
        phones = s.app.state.emulator.phones
        rcs = {f"+1555{i:07d}" for i in range(300) if phones.get(f"+1555{i:07d}").rcs}
        sends = _log(s.app, "agentMessages/async")
        assert {e.phone for e in sends if e.status == 200} == rcs
        assert len(_log(s.app, "rcsEnabledContacts")) == 1, "one bulk check for 300 numbers"
        with s.fallback.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {r["msisdn"] for r in rows} == {f"+1555{i:07d}" for i in range(300)} - rcs
        assert rows[0]["text"].startswith("Spring sale, Ada")
        assert rows[0]["text"].endswith("\n1. Shop: https://example.com/s")
        f = funnel(await CampaignSends(s.store).campaign_counts(s.campaign.id))
        assert (f.recipients, f.sent, f.not_rcs, f.fallen_back, f.waiting) == (
            300, len(rcs), 300 - len(rcs), 300 - len(rcs), 0,
        )  # fmt: skip
        assert summary.progress.sent == len(rcs)
        campaign = await s.store.campaigns.get_campaign(s.campaign.id)
        assert campaign is not None and campaign.status.value == "done"

        # a second campaign to the same numbers is answered from the capability cache
        again = await create_campaign(
            s.store, name="again", provider=_settings(), csv=tmp_path / "r.csv",
            message=MessageTemplate.from_json(json.dumps(CARD)), tps=5000,
            fallback=f"csv:{tmp_path / 'fallback2.csv'}",
        )  # fmt: skip
        await s.runner(again).run()
        assert len(_log(s.app, "rcsEnabledContacts")) == 1


async def test_quiet_hours_defer_recipients_to_their_morning(tmp_path: Path) -> None:
    night = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)  # 03:00 in New York
    async with _setup(tmp_path, 20, quiet_hours="21:00-08:00", clock=lambda: night) as s:
        runner = s.runner(options=RunOptions(wait=False), clock=lambda: night)
        summary = await runner.run()
        assert not summary.finished and summary.progress.sent == 0
        assert _log(s.app, "agentMessages/async") == []
        waiting = await s.store.campaigns.get_recipients(s.campaign.id, status=RecipientStatus.RCS)
        assert waiting and {r.due_at for r in waiting} == {datetime(2025, 1, 15, 13, 0, tzinfo=UTC)}
        assert any("wait until 2025-01-15 13:00 UTC" in n for n in summary.notes)


async def test_cache_only_uses_stale_answers_and_tries_the_unknown(tmp_path: Path) -> None:
    async with _setup(tmp_path, 10, capabilities=CapabilityMode.CACHE_ONLY) as s:
        cache = CapabilityCache(s.store, "dotgo_google")
        long_ago = datetime.now(UTC) - timedelta(days=400)
        await cache.record_bulk(["+15550000000", "+15550000001"], [], at=long_ago)
        await s.runner().run()
        assert _log(s.app, "rcsEnabledContacts") == [], "cache-only never asks the provider"
        counts = await s.store.campaigns.count_recipients(s.campaign.id)
        assert counts[RecipientStatus.FALLBACK] >= 2
        tried = {e.phone for e in _log(s.app, "agentMessages/async")}
        assert "+15550000000" not in tried and "+15550000002" in tried


class _OrangeClient:
    """Just enough of a client for the checker: an Orange-named provider with bulk checks."""

    class provider:  # noqa: N801 - mimics RcsClient.provider
        name = "orange"
        offers = frozenset({"bulk_capabilities", "capabilities"})

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        self.e164: list[bool] = []

    async def bulk_capabilities(
        self, numbers: list[str], *, e164: bool = False
    ) -> BulkCapabilities:
        self.asked.append(list(numbers))
        self.e164.append(e164)
        return BulkCapabilities(
            provider="orange", reachable=frozenset(numbers[:1]), unreachable=frozenset(numbers[1:])
        )


async def test_orange_bulk_checks_wait_for_the_night_window(store: Store) -> None:
    client = _OrangeClient()
    numbers = ["+33612345670", "+33612345671"]
    noon = datetime(2025, 1, 15, 11, 0, tzinfo=UTC)  # 12:00 in Paris: outside 22:00-07:00
    day = CapabilityChecker(store, client, clock=lambda: noon)  # type: ignore[arg-type]
    result = await day.check(numbers)
    assert result.deferred == set(numbers) and client.asked == []
    assert result.deferred_until == datetime(2025, 1, 15, 21, 0, tzinfo=UTC)
    assert "scheduled for 2025-01-15 21:00 UTC" in result.notes[0]
    night = datetime(2025, 1, 15, 22, 0, tzinfo=UTC)  # 23:00 in Paris
    result = await CapabilityChecker(store, client, clock=lambda: night).check(numbers)  # type: ignore[arg-type]
    assert (result.rcs, result.not_rcs) == ({numbers[0]}, {numbers[1]})
    assert client.e164 == [True], "the campaign's stored numbers are not parsed again"
    # answered from the cache the next day, without asking again
    later = CapabilityChecker(store, client, clock=lambda: noon + timedelta(days=1))  # type: ignore[arg-type]
    result = await later.check(numbers)
    assert result.from_cache == 2 and len(client.asked) == 1


async def test_statuses_and_taps_reach_the_report_through_the_webhook(tmp_path: Path) -> None:
    port = free_port()
    async with _setup(tmp_path, 30, webhook=f"http://127.0.0.1:{port}/webhook") as s:
        server = uvicorn.Server(
            uvicorn.Config(webhook_app(s.store, "dotgo_google"), host="127.0.0.1", port=port,
                           log_level="warning")
        )  # fmt: skip
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                await asyncio.sleep(0.02)
            s.app.state.emulator.start()  # delivery and read timers, webhooks
            await s.runner().run()
            sent = await s.store.messages.find_messages(campaign=s.campaign.id, limit=100)
            for _ in range(200):
                f = funnel(await CampaignSends(s.store).campaign_counts(s.campaign.id))
                if f.displayed == f.sent:
                    break
                await asyncio.sleep(0.05)
            assert f.sent == len(sent) > 0 and f.delivered == f.sent and f.displayed == f.sent
            first = sent[0]
            user_actions.tap(
                s.app.state.emulator, GOOGLE_BOT, first.recipient, msg_id=first.id, index=0,
                card_index=0,
            )  # fmt: skip
            for _ in range(200):
                f = funnel(await CampaignSends(s.store).campaign_counts(s.campaign.id))
                if f.clicked:
                    break
                await asyncio.sleep(0.05)
            assert f.clicked == 1
        finally:
            server.should_exit = True
            await serving


@pytest.mark.parametrize("body", [b"not json", b"[]"])
async def test_the_webhook_refuses_bodies_that_are_not_payloads(
    tmp_path: Path, body: bytes
) -> None:
    async with await Store.open(str(tmp_path / "w.db")) as store:
        app = webhook_app(store, "dotgo")
        transport = AsgiTransport(app)
        answer = await transport.send(
            HttpRequest("POST", "http://hook/webhook", headers={"Content-Type": "application/json"},
                        content=body),
            5,
        )  # fmt: skip
        assert answer.status == 400


async def test_an_account_error_stops_the_run_and_leaves_the_recipient_ready(
    tmp_path: Path,
) -> None:
    gsma = "OsOsQ0GwNvUdLTV9Bd"
    bot = BotConfig(
        id=gsma, provider="dotgo", client_id="d", client_secret=SECRET,  # type: ignore[arg-type]
        tps=100_000, balance=0,
    )  # fmt: skip
    app = create_app(
        EmulatorConfig(bots=[bot], phone_ranges=[PhoneRangeConfig(prefix="+1555", count=3)])
    )
    settings = ProviderSettings(
        "dotgo", gsma, "d", "http://e/dotgo/rcs", "http://e/dotgo/auth/oauth/token"
    )
    async with await Store.open(str(tmp_path / "stop.db")) as store:
        campaign = await create_campaign(
            store, name="s", provider=settings, csv=write_recipients(tmp_path / "r.csv", 3),
            message=MessageTemplate.from_json(json.dumps(CARD)), tps=1000,
            capabilities=CapabilityMode.NONE, fallback=f"csv:{tmp_path / 'f.csv'}",
        )  # fmt: skip
        client = build_client(settings.config(SECRET), transport=AsgiTransport(app), retry=NO_RETRY)
        runner = Runner(store, campaign, client, CsvFallbackSender(tmp_path / "f.csv"))
        with pytest.raises(RunStopped, match="402"):
            await runner.run()
        counts = await store.campaigns.count_recipients(campaign.id)
        assert counts == {RecipientStatus.RCS: 3}, "ready for a run once the account is fixed"
        # the refused attempt was closed (an answer came): the next run sends, not "unknown"
        app.state.emulator.bots[gsma].balance = None
        summary = await Runner(store, campaign, client, CsvFallbackSender(tmp_path / "f.csv")).run()
        assert summary.finished and summary.progress.sent == 3 and summary.progress.unknown == 0
        await client.aclose()
    await app.state.emulator.aclose()


async def test_a_bulk_check_the_account_cannot_use_falls_back_to_single_checks(
    tmp_path: Path,
) -> None:
    async with _setup(tmp_path, 12) as s:
        s.app.state.emulator.bots[GOOGLE_BOT].maaps = ["dotgo", "telcel"]  # 424 on bulk
        notes: list[str] = []
        summary = await s.runner(notify=notes.append).run()
        assert summary.finished
        assert any("checking one by one" in n for n in notes)
        singles = [e for e in s.app.state.emulator.log if "/capabilities" in e.target]
        assert len(singles) == 12
        rcs = {e.phone for e in singles if e.status == 200}
        sent = {e.phone for e in _log(s.app, "agentMessages/async") if e.status == 200}
        assert sent == rcs


class _Refusing(_OrangeClient):
    async def bulk_capabilities(
        self, numbers: list[str], *, e164: bool = False
    ) -> BulkCapabilities:
        self.asked.append(list(numbers))
        raise ProviderError("Execute those requests only on timeslots ...", provider="orange",
                            status=405)  # fmt: skip


async def test_orange_refusing_inside_our_window_defers_to_the_next_one(store: Store) -> None:
    client = _Refusing()
    just_before_seven = datetime(2025, 1, 15, 5, 59, tzinfo=UTC)  # 06:59 in Paris
    checker = CapabilityChecker(store, client, clock=lambda: just_before_seven)  # type: ignore[arg-type]
    result = await checker.check(["+33612345670"])
    assert len(client.asked) == 1 and result.deferred == {"+33612345670"}
    assert result.deferred_until == datetime(2025, 1, 15, 21, 0, tzinfo=UTC)
