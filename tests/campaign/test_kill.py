"""Crash safety end to end: a 5,000-recipient campaign against a real emulator server with 10 %
injected 429/500/502 faults; the runner (a separate process) is killed with SIGKILL three times
at random points while sending, then run again to the end. The emulator's own request log is
the judge.

* Dotgo's Google API (the outbox id is the ``messageId``, which the platform deduplicates):
  every RCS recipient is accepted exactly once, none is missing, nobody else is sent to, and
  every non-RCS recipient is in the fallback CSV exactly once.
* Dotgo's GSMA API (the platform assigns ids): at most once per recipient; a recipient that
  was not accepted is reported as an unknown outcome (never silently dropped), and ``status``
  prints the count.
* Two runner processes sharing one campaign on PostgreSQL never send to a recipient twice.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import re
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from rcskit.campaign.sends import CampaignSends
from rcskit.store import RecipientStatus, Store
from tests.chaos.redis_server import RedisServer

from .conftest import (
    CLIENTS,
    GOOGLE_BOT,
    GSMA_BOT,
    SECRETS,
    EmulatorServer,
    emulator_toml,
    run_cli,
    start_cli,
    write_recipients,
)

COUNT = 5000

MESSAGE = {
    "content": {
        "kind": "card",
        "title": "Spring sale, {first_name}",
        "description": "Twenty percent off today.",
        "suggestions": [{"kind": "open_url", "text": "Shop", "url": "https://example.com/s"}],
    }
}

IN_FLIGHT = 64
"""``--concurrency`` of the killed runs: a kill leaves at most this many outcomes unknown."""


def _create(
    tmp_path: Path,
    server: EmulatorServer,
    db: str,
    bot: str,
    count: int,
    *extra: str,
    tps: str | None = "5000",
) -> str:
    csv_path = write_recipients(tmp_path / "recipients.csv", count)
    message = tmp_path / "msg.json"
    message.write_text(json.dumps(MESSAGE), encoding="utf-8")
    kind = "dotgo_google" if bot == GOOGLE_BOT else "dotgo"
    done = run_cli(
        "create",
        "--name", "kill test",
        "--provider", kind,
        "--csv", str(csv_path),
        "--message", str(message),
        *(("--tps", tps) if tps else ()),
        "--bot-id", bot,
        "--client-id", CLIENTS[bot],
        "--server-root", server.server_root,
        "--auth-url", server.auth_url,
        "--fallback", f"csv:{tmp_path / 'fallback.csv'}",
        "--id", "kill",
        "--database", db,
        *extra,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "campaign kill created: 5000 recipient(s)" in done.stdout or count != COUNT
    return "kill"


async def _kill_while_sending(
    server: EmulatorServer, db: str, bot: str, kills: int, rng: random.Random
) -> None:
    """Start the runner and SIGKILL it once the emulator holds a random number of new
    messages; ``kills`` times."""
    for _ in range(kills):
        before = (await server.get("/"))["messages"]
        target = before + rng.randint(150, 1000)
        runner = start_cli(
            "run", "kill", "--database", db, "--no-progress",
            "--concurrency", str(IN_FLIGHT), secret=SECRETS[bot],
        )  # fmt: skip
        try:
            while True:
                if runner.poll() is not None:
                    out, err = runner.communicate()
                    pytest.fail(f"the runner ended before it was killed: {out} {err}")
                if (await server.get("/"))["messages"] >= target:
                    break
                await asyncio.sleep(0.01)
            runner.send_signal(signal.SIGKILL)
        finally:
            runner.wait(timeout=10)
            if runner.stdout:
                runner.stdout.close()
            if runner.stderr:
                runner.stderr.close()
        assert runner.returncode == -signal.SIGKILL


def _fallback_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def _rcs_numbers(server: EmulatorServer) -> tuple[set[str], set[str]]:
    phones = await server.phones()
    return {p["number"] for p in phones if p["rcs"]}, {p["number"] for p in phones if not p["rcs"]}


def _phone_counts(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(e["phone"] for e in entries)


async def test_google_api_killed_three_times_sends_each_recipient_exactly_once(
    tmp_path: Path, emulator_factory: Any, database_url: str
) -> None:
    server: EmulatorServer = emulator_factory(emulator_toml(count=COUNT))
    _create(tmp_path, server, database_url, GOOGLE_BOT, COUNT)
    await _kill_while_sending(server, database_url, GOOGLE_BOT, 3, random.Random())
    final = run_cli(
        "run", "kill", "--database", database_url, "--no-progress", secret=SECRETS[GOOGLE_BOT]
    )
    assert final.returncode == 0, final.stderr

    rcs, not_rcs = await _rcs_numbers(server)
    assert len(rcs) + len(not_rcs) == COUNT and 300 < len(not_rcs) < 700
    accepted = _phone_counts(await server.accepted_sends(GOOGLE_BOT))
    assert set(accepted) == rcs, "every RCS recipient accepted, nobody else"
    assert max(accepted.values()) == 1, [p for p, n in accepted.items() if n > 1][:5]
    fallback = Counter(row["msisdn"] for row in _fallback_rows(tmp_path / "fallback.csv"))
    assert set(fallback) == not_rcs and max(fallback.values()) == 1
    assert all(
        row["text"] == f"Spring sale, Ada{int(row['msisdn'][5:])}\nTwenty percent off today.\n"
        "1. Shop: https://example.com/s"
        for row in _fallback_rows(tmp_path / "fallback.csv")
    )

    status = run_cli("status", "kill", "--database", database_url)
    assert status.returncode == 0, status.stderr
    assert "unknown outcome: 0" in status.stdout
    async with await Store.open(database_url) as store:
        counts = await store.campaigns.count_recipients("kill")
        assert counts == {RecipientStatus.SENT: len(rcs), RecipientStatus.FALLBACK: len(not_rcs)}
        campaign = await store.campaigns.get_campaign("kill")
        assert campaign is not None and campaign.status.value == "done"
        # the resends after a kill met the platform's duplicate check and were read as accepted
        messages = await store.messages.find_messages(campaign="kill", limit=10_000)
        assert len(messages) == len(rcs)
        assert all(m.provider_message_id == m.id for m in messages)


async def test_gsma_api_killed_three_times_sends_at_most_once_and_reports_unknown(
    tmp_path: Path, emulator_factory: Any
) -> None:
    server: EmulatorServer = emulator_factory(emulator_toml(count=COUNT))
    db = str(tmp_path / "gsma.db")
    _create(tmp_path, server, db, GSMA_BOT, COUNT)
    await _kill_while_sending(server, db, GSMA_BOT, 3, random.Random())
    final = run_cli("run", "kill", "--database", db, "--no-progress", secret=SECRETS[GSMA_BOT])
    assert final.returncode == 0, final.stderr

    rcs, not_rcs = await _rcs_numbers(server)
    accepted = _phone_counts(await server.accepted_sends(GSMA_BOT))
    assert not accepted or max(accepted.values()) == 1, "never twice"
    assert set(accepted) <= rcs
    async with await Store.open(db) as store:
        unknown = {
            number
            for _, number, *_ in await CampaignSends(store).recipients_by_status(
                "kill", [RecipientStatus.UNKNOWN], limit=10_000
            )
        }
        counts = await store.campaigns.count_recipients("kill")
        sent = {
            m.recipient
            for m in await store.messages.find_messages(campaign="kill", limit=10_000)
            if m.provider_message_id is not None
        }
    missing = rcs - set(accepted)
    assert missing <= unknown, "a recipient not accepted is reported, never dropped"
    assert sent | unknown == rcs and not sent & unknown
    assert len(unknown) <= 3 * IN_FLIGHT, "at most the sends in flight at each kill"
    assert counts.get(RecipientStatus.FALLBACK) == len(not_rcs)
    status = run_cli("status", "kill", "--database", db)
    assert f"unknown outcome: {len(unknown)}" in status.stdout
    report = run_cli("report", "kill", "--database", db, "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    assert f"unknown outcome ({len(unknown)})" in report.stdout or not unknown
    page = (tmp_path / "report" / "kill-report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert all(number in page for number in unknown)


async def test_two_runner_processes_share_a_campaign_and_its_limit_on_postgresql(
    tmp_path: Path, emulator_factory: Any, postgres_database_url: str
) -> None:
    database_url = postgres_database_url
    count = 1000
    server: EmulatorServer = emulator_factory(emulator_toml(count=count))
    _create(tmp_path, server, database_url, GSMA_BOT, count)
    redis = RedisServer()
    redis.start()
    try:
        runners = [
            start_cli("run", "kill", "--database", database_url, "--no-progress",
                      "--concurrency", "16", "--redis", redis.url, secret=SECRETS[GSMA_BOT])
            for _ in range(2)
        ]  # fmt: skip
        outputs = [r.communicate(timeout=120) for r in runners]
    finally:
        redis.close()
    assert [r.returncode for r in runners] == [0, 0], outputs
    rcs, not_rcs = await _rcs_numbers(server)
    accepted = _phone_counts(await server.accepted_sends(GSMA_BOT))
    assert set(accepted) == rcs and max(accepted.values()) == 1
    async with await Store.open(database_url) as store:
        counts = await store.campaigns.count_recipients("kill")
    assert counts == {RecipientStatus.SENT: len(rcs), RecipientStatus.FALLBACK: len(not_rcs)}
    shares = [int(re.search(r"(\d+) sent,", err).group(1)) for _, err in outputs]  # type: ignore[union-attr]
    assert sum(shares) == len(rcs) and min(shares) > 0, "both runners did part of the work"


async def test_a_second_runner_of_a_paced_campaign_without_a_shared_limiter_is_refused(
    tmp_path: Path, emulator_factory: Any, postgres_database_url: str
) -> None:
    server: EmulatorServer = emulator_factory(emulator_toml(count=400))
    _create(tmp_path, server, postgres_database_url, GSMA_BOT, 400, tps="20")
    first = start_cli(
        "run", "kill", "--database", postgres_database_url, "--no-progress",
        secret=SECRETS[GSMA_BOT],
    )  # fmt: skip
    try:
        async with await Store.open(postgres_database_url) as store:
            for _ in range(200):
                if await store.workers.live_workers("kill"):
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the first runner never registered")
        second = run_cli(
            "run", "kill", "--database", postgres_database_url, "--no-progress",
            secret=SECRETS[GSMA_BOT],
        )  # fmt: skip
        assert second.returncode != 0
        lines = [line for line in second.stderr.strip().splitlines() if line.strip()]
        assert len(lines) == 1, second.stderr
        assert "paced at 20 TPS" in lines[0] and "--redis URL" in lines[0], lines[0]
    finally:
        first.kill()
        first.communicate(timeout=30)
