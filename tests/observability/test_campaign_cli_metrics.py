"""``--metrics-port`` end to end: ``rcskit worker`` and ``rcskit campaign run`` as processes
against a real emulator server, each scraped over HTTP and parsed with prometheus_client's text
parser while it sends; and ``rcskit_lease_expired_total`` counting leases that really expired.

The expired leases belong to a second running campaign that no process serves: a "ghost" worker
claimed its recipients for one second and vanished. ``campaign run`` serves only its own
campaign, so nobody claims those rows again; its reaper (every few seconds, over every running
campaign) clears their leases and counts them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from rcskit.store import RecipientStatus, Store
from tests.campaign.conftest import (
    CLIENTS,
    GOOGLE_BOT,
    SECRETS,
    EmulatorServer,
    emulator_toml,
    run_cli,
    write_recipients,
)
from tests.observability.pipes import Lines

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
MESSAGE = {"content": {"kind": "text", "text": "Spring sale, {first_name}"}}


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        body = answer.read().decode()
    out: Samples = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def campaign_gauges(samples: Samples, campaign: str) -> dict[str, float]:
    """``rcskit_campaign_recipients`` of ``campaign`` by status."""
    return {
        dict(labels)["status"]: v
        for (name, labels), v in samples.items()
        if name == "rcskit_campaign_recipients" and dict(labels)["campaign"] == campaign
    }


def create(tmp_path: Path, server: EmulatorServer, db: str, cid: str, count: int, tps: str) -> None:
    csv_path = write_recipients(tmp_path / f"{cid}.csv", count)
    message = tmp_path / "message.json"
    message.write_text(json.dumps(MESSAGE), encoding="utf-8")
    done = run_cli(
        "create",
        "--name", f"metrics {cid}",
        "--provider", "dotgo_google",
        "--csv", str(csv_path),
        "--message", str(message),
        "--tps", tps,
        "--bot-id", GOOGLE_BOT,
        "--client-id", CLIENTS[GOOGLE_BOT],
        "--server-root", server.server_root,
        "--auth-url", server.auth_url,
        "--id", cid,
        "--database", db,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def start(*args: str) -> tuple[subprocess.Popen[str], Lines, Lines]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCSKIT_")}
    env["RCSKIT_CLIENT_SECRET"] = SECRETS[GOOGLE_BOT]
    process = subprocess.Popen(
        [sys.executable, "-m", "rcskit.cli", *args, "--metrics-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process, Lines(process.stdout), Lines(process.stderr)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


async def scrape_until(url: str, ready: Any, what: str, timeout: float = 60.0) -> Samples:
    """Scrape ``url`` until ``ready(samples)``; the last scrape."""
    deadline = time.monotonic() + timeout
    samples: Samples = {}
    while time.monotonic() < deadline:
        samples = await asyncio.to_thread(scrape, url)
        if ready(samples):
            return samples
        await asyncio.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}; last scrape: {samples}")


def sent(samples: Samples) -> float:
    return value(samples, "rcskit_sends_total", provider="dotgo_google", outcome="accepted")


async def test_campaign_run_serves_metrics_and_counts_really_expired_leases(
    tmp_path: Path, emulator_factory: Any, database_url: str
) -> None:
    db = database_url
    toml = emulator_toml(count=40, rcs_ratio=1.0, fault_rate=0.0)
    server: EmulatorServer = emulator_factory(toml)
    create(tmp_path, server, db, "served", 40, tps="4")  # about ten seconds of sending
    create(tmp_path, server, db, "orphan", 6, tps="4")
    async with await Store.open(db) as store:
        # a worker claimed the orphan campaign's recipients for one second, then vanished
        await store.campaigns.set_campaign_status("orphan", "running")
        held = await store.campaigns.claim_batch(
            "orphan", "ghost", 100, 1.0, statuses=list(RecipientStatus)
        )
        assert len(held) == 6

        process, _out, err = start("campaign", "run", "served", "--database", db, "--no-progress")
        try:
            url = err.wait_for(r"metrics on (http://\S+/metrics)").group(1)
            first = await scrape_until(
                url,
                lambda s: (
                    sent(s) >= 1
                    and campaign_gauges(s, "served")
                    and value(s, "rcskit_lease_expired_total") >= 6
                ),
                "sends, the campaign's gauges and the orphan's expired leases",
            )
            assert value(first, "rcskit_lease_expired_total") == 6  # each lease once
            gauges = campaign_gauges(first, "served")
            assert sum(gauges.values()) == 40, gauges  # every recipient, by status
            assert not campaign_gauges(first, "orphan")  # not served here: not reported
            # reported while a recipient is ready and waiting (none may be, between two beats)
            oldest = ("rcskit_campaign_oldest_pending_seconds", (("campaign", "served"),))
            assert first.get(oldest, 0.0) >= 0.0
            later = await scrape_until(url, lambda s: sent(s) > sent(first), "more sends")
            assert value(later, "rcskit_send_duration_seconds_count", provider="dotgo_google") > 0
            assert process.wait(timeout=90) == 0, err.lines
        finally:
            stop(process)
        orphans = await store.campaigns.get_recipients("orphan")
        assert all(r.claim_owner is None for r in orphans)  # handed back by the reaper
        assert len(await server.accepted_sends(GOOGLE_BOT)) == 40


async def test_worker_serves_metrics_while_it_sends_a_campaign(
    tmp_path: Path, emulator_factory: Any, database_url: str
) -> None:
    db = database_url
    toml = emulator_toml(count=30, rcs_ratio=1.0, fault_rate=0.0)
    server: EmulatorServer = emulator_factory(toml)
    create(tmp_path, server, db, "spring", 30, tps="5")
    process, _out, err = start("worker", "--database", db, "--log-format", "json")
    try:
        url = err.wait_for(r"metrics on (http://\S+/metrics)").group(1)
        idle = await asyncio.to_thread(scrape, url)
        assert sent(idle) == 0 and not campaign_gauges(idle, "spring")
        resumed = run_cli("resume", "spring", "--database", db)
        assert resumed.returncode == 0, resumed.stderr
        first = await scrape_until(
            url,
            lambda s: sent(s) >= 1 and campaign_gauges(s, "spring"),
            "the worker's sends and the campaign's gauges",
        )
        assert sum(campaign_gauges(first, "spring").values()) == 30
        done = await scrape_until(url, lambda s: sent(s) >= 30, "every send", timeout=90)
        assert sent(done) == 30
        tokens = value(done, "rcskit_token_requests_total", provider="dotgo_google", outcome="ok")
        assert tokens >= 1
    finally:
        stop(process)
    records = [json.loads(line) for line in err.lines]  # every stderr line is JSON
    served = next(r for r in records if r["event"] == "metrics_serving")
    assert served["message"] == f"metrics on {url}" and served["url"] == url
    assert len(await server.accepted_sends(GOOGLE_BOT)) == 30
