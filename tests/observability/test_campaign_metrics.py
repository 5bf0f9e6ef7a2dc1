"""Campaign metrics: sends, pacing waits, the gauges a worker publishes, and their removal."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from rcskit.campaign import CsvFallbackSender, Runner
from rcskit.campaign import runner as runner_module
from rcskit.campaign.gauges import publish_campaign_gauges
from rcskit.campaign.pacing import send_limiter
from rcskit.observability import catalogue
from rcskit.store import Store
from rcskit.transport import HttpRequest, HttpResponse, Transport
from tests.campaign.test_runner import _log, _setup


async def test_a_run_counts_its_sends_and_waits_and_drops_its_gauges(tmp_path: Path) -> None:
    sends_before = catalogue.SENDS.value("dotgo_google", "accepted")
    waits_before = catalogue.RATELIMIT_WAIT.count("dotgo_google")
    async with _setup(tmp_path, 60) as s:
        summary = await s.runner().run()
        assert summary.finished
        accepted = [e for e in _log(s.app, "agentMessages/async") if e.status == 200]
        assert accepted and summary.progress.sent == len(accepted)
        grew = catalogue.SENDS.value("dotgo_google", "accepted") - sends_before
        assert grew == len(accepted)
        # each send waits for the campaign's pacing, each bulk check for the client's limiter
        paced = len(accepted) + len(_log(s.app, "rcsEnabledContacts"))
        assert catalogue.RATELIMIT_WAIT.count("dotgo_google") - waits_before == paced
        # a finished run stops reporting its campaign
        assert not [k for k in catalogue.CAMPAIGN_RECIPIENTS.snapshot() if k[0] == s.campaign.id]
        assert catalogue.CAMPAIGN_OLDEST_PENDING.value(s.campaign.id) is None


async def test_gauges_show_the_backlog_and_its_oldest_recipient(tmp_path: Path) -> None:
    async with _setup(tmp_path, 20) as s:
        cid = s.campaign.id
        recipients = await s.store.campaigns.get_recipients(cid, limit=100)
        assert len(recipients) == 20 and all(r.due_at is None for r in recipients)
        later = max(r.updated_at for r in recipients) + timedelta(seconds=90)
        await publish_campaign_gauges(s.store, cid, later)
        assert catalogue.CAMPAIGN_RECIPIENTS.value(cid, "queued") == 20
        assert catalogue.CAMPAIGN_RECIPIENTS.value(cid, "sent") == 0
        expected = (later - min(r.updated_at for r in recipients)).total_seconds()
        assert catalogue.CAMPAIGN_OLDEST_PENDING.value(cid) == expected >= 90
        await s.runner().run()
        await publish_campaign_gauges(s.store, cid, later)
        assert catalogue.CAMPAIGN_RECIPIENTS.value(cid, "queued") == 0
        assert catalogue.CAMPAIGN_OLDEST_PENDING.value(cid) is None  # nothing left waiting


def test_gauges_wait_longer_after_a_slow_reading() -> None:
    assert runner_module.gauges_delay(0.0) == runner_module.REAP_S
    assert runner_module.gauges_delay(0.01) == runner_module.REAP_S
    # a reading of 1 s is followed by 1 / GAUGES_SHARE s without one
    assert runner_module.gauges_delay(1.0) == pytest.approx(1.0 / runner_module.GAUGES_SHARE)
    assert runner_module.gauges_delay(1.0) > runner_module.REAP_S


async def test_a_worker_reads_slow_gauges_less_often(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs of about 1.5 s (30 recipients at 20 TPS), the gauges due every 0.1 s: read at
    nearly every watch when reading them is quick, once when a reading takes 0.25 s (then
    the next is due 5 s later, after the run)."""
    monkeypatch.setattr(runner_module, "REAP_S", 0.1)
    readings: dict[str, int] = {}

    async def run(name: str, slow_s: float) -> None:
        async def published(store: Store, campaign_id: str, now: datetime) -> None:
            readings[name] = readings.get(name, 0) + 1
            await asyncio.sleep(slow_s)
            await publish_campaign_gauges(store, campaign_id, now)

        monkeypatch.setattr(runner_module, "publish_campaign_gauges", published)
        folder = tmp_path / name
        folder.mkdir()
        async with _setup(folder, 30) as s:
            runner = Runner(
                s.store,
                s.campaign,
                s.client,
                CsvFallbackSender(s.fallback),
                limiter=send_limiter("dotgo_google", 20),
            )
            assert (await runner.run()).finished

    await run("quick", 0.0)
    await run("slow", 0.25)
    assert readings["quick"] >= 3
    assert readings["slow"] == 1


class FirstAnswerLost:
    """Delivers every request, but turns the first send's answer into a 503 (the answer was
    lost): the campaign sends again under the same id, and the provider answers 409."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.lost = False

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        response = await self.inner.send(request, timeout)
        if not self.lost and "agentMessages" in request.url and response.status == 200:
            self.lost = True
            return HttpResponse.of_json(503, {"error": {"code": 503, "message": "lost"}})
        return response

    async def close(self) -> None:
        await self.inner.close()


async def test_a_send_the_provider_already_had_counts_as_a_duplicate(tmp_path: Path) -> None:
    before = catalogue.DUPLICATES_SUPPRESSED.value()
    async with _setup(tmp_path, 10, wrap=FirstAnswerLost) as s:
        summary = await s.runner().run()
        assert summary.finished
        conflicts = [e for e in _log(s.app, "agentMessages/async") if e.status == 409]
        assert len(conflicts) == 1
    assert catalogue.DUPLICATES_SUPPRESSED.value() - before == 1
