"""The chaos driver: several campaign workers on PostgreSQL (+ a private Redis) against the
fake Dotgo platform, with a ``kill -9``, a ``SIGSTOP`` past the lease and a Redis restart
mid-run; then the checks of issue 12 point 7, each reported as holding or not.

:func:`run_chaos` takes a :class:`ChaosPlan` and returns a :class:`ChaosResult` (a list of
:class:`Check`), so the CI test and ``bench/chaos.py`` assert or print the same checks:

- ``terminal``: every recipient ends in a terminal status (nothing queued or claimed);
- ``no_duplicates``: where the platform de-duplicates or offers the status lookup, no
  recipient got the message twice (counted on the platform's side);
- ``unknown_bounded``: zero "unknown" where the platform de-duplicates or offers the status
  lookup and the account opted in to client message ids (``client_message_ids = true`` in
  its ``rcskit.toml``: the platform then knows our ids); otherwise at most the requests in
  flight at the kill (the killed worker's ``--concurrency``) plus the ambiguous answers the
  platform injected (timeouts and lost answers);
- ``delivered``: every recipient that is ``sent`` in the store was accepted by the platform;
- ``second``: the worst sliding 1 s of arrivals on the platform is at most ``1.2 x TPS``;
- ``window30``: the worst sliding 30 s is at most ``30 x TPS``.

Workers are ``rcskit worker --redis URL`` processes; ``rcskit campaign resume ID`` starts the
campaign for them, as a user would.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from rcskit.store import migrate
from tests.chaos.fake_provider import Faults
from tests.chaos.redis_server import RedisServer, free_port
from tests.chaos.windows import worst_window_start

ROOT = Path(__file__).resolve().parents[2]
CAMPAIGN = "chaos"
SECRET = "chaos-secret"
TERMINAL = frozenset(
    {"sent", "fallback", "failed", "unknown", "invalid", "duplicate", "cancelled", "skipped"}
)


@dataclass
class ChaosPlan:
    """One chaos run. Fractions are of the recipients the platform has accepted."""

    recipients: int = 1200
    tps: float = 100.0
    workers: int = 3
    concurrency: int = 32
    lease: float = 3.0
    dedupe: bool = True
    status_lookup: bool = True
    client_message_ids: bool = True
    """The account's opt-in (``client_message_ids = true`` in ``rcskit.toml``): the platform
    gets our ids, so its de-duplication and status lookup by our id apply."""
    retry_max_delay: float = 2.0
    """``campaign create --retry-max-delay``: short, so retries end within the run."""
    faults: Faults = field(
        default_factory=lambda: Faults(
            rate_429=0.002, rate_5xx=0.01, rate_timeout=0.005, rate_lost=0.005, timeout_s=2.0
        )
    )
    kill_at: float = 0.2
    stop_at: float = 0.35
    redis_restart_at: float = 0.55
    deadline_s: float = 50.0
    """Seconds the workers get from their start to finish every recipient."""
    seed: int = 12


@dataclass(frozen=True)
class Check:
    """One assertion of the run, and whether it held."""

    name: str
    holds: bool
    detail: str


@dataclass
class ChaosResult:
    """What a run found: the checks, the store's counts and the platform's report."""

    checks: list[Check]
    statuses: dict[str, int]
    report: dict[str, Any]
    events: list[str]
    command: list[str]
    finished_s: float | None = None
    """Seconds from the campaign's start to every recipient terminal (``None``: not by the
    deadline)."""

    def failed(self) -> list[Check]:
        """The checks that did not hold."""
        return [c for c in self.checks if not c.holds]

    def summary(self) -> str:
        """One line per check."""
        return "\n".join(
            f"{'ok  ' if c.holds else 'FAIL'} {c.name}: {c.detail}" for c in self.checks
        )


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "rcskit.campaign", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["RCSKIT_CLIENT_SECRET"] = SECRET
    return env


def worker_command(database: str, redis_url: str, plan: ChaosPlan) -> list[str]:
    """The command of one worker: ``rcskit worker`` (it serves the running campaigns:
    :func:`start_command` starts this one) with the plan's concurrency and lease."""
    return [
        sys.executable, "-m", "rcskit.cli", "worker",
        "--database", database,
        "--concurrency", str(plan.concurrency),
        "--lease", f"{plan.lease:g}",
        "--redis", redis_url,
    ]  # fmt: skip


def start_command(database: str) -> list[str]:
    """What makes the campaign running for the ``rcskit worker`` processes: ``campaign
    resume ID``, as a user would."""
    return _cli("resume", CAMPAIGN, "--database", database)


async def _count(session: aiohttp.ClientSession, base: str) -> dict[str, int]:
    async with session.get(f"{base}/_chaos/count") as r:
        data: dict[str, int] = await r.json()
        return data


async def _report(base: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/_chaos/report") as r:
        data: dict[str, Any] = await r.json()
        return data


async def _wait_up(base: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                await _count(session, base)
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"the fake platform at {base} did not start")


async def recipient_statuses(database: str, campaign: str) -> dict[str, int]:
    """How many recipients of ``campaign`` are in each status (straight from the table)."""
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT status, count(*) AS n FROM campaign_recipients"
            " WHERE campaign_id = $1 GROUP BY status",
            campaign,
        )
    finally:
        await conn.close()
    return {str(r["status"]): int(r["n"]) for r in rows}


async def open_recipients(database: str, campaign: str, limit: int = 8) -> list[str]:
    """A line per recipient of ``campaign`` not yet terminal (first ``limit``): its status,
    due time, claim and lease, and its message's attempts, state and last error, so that a
    failed ``terminal`` check says what the recipients wait for."""
    conn = await asyncpg.connect(database)
    try:
        rows = await conn.fetch(
            "SELECT r.line_number, r.status, r.due_at, r.claim_owner, r.lease_expires_at,"
            " r.fence, m.attempts, m.state, m.last_error_code, m.last_error_reason, now() AS t"
            " FROM campaign_recipients r LEFT JOIN outbound_messages m"
            " ON m.campaign_id = r.campaign_id AND m.recipient = r.msisdn"
            " WHERE r.campaign_id = $1 AND NOT (r.status = ANY($2::text[]))"
            " ORDER BY r.line_number LIMIT $3",
            campaign,
            sorted(TERMINAL),
            limit,
        )
    finally:
        await conn.close()
    return [
        f"line {r['line_number']} {r['status']} due {r['due_at']} (now {r['t']}) claim"
        f" {r['claim_owner']} lease {r['lease_expires_at']} fence {r['fence']};"
        f" message attempts {r['attempts']} {r['state']} {r['last_error_code']}"
        f" {(r['last_error_reason'] or '')[:80]}"
        for r in rows
    ]


def _all_terminal(statuses: dict[str, int]) -> bool:
    return bool(statuses) and all(s in TERMINAL for s in statuses)


def _write_inputs(folder: Path, count: int) -> tuple[Path, Path]:
    recipients = folder / "recipients.csv"
    with recipients.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["phone", "first_name"])
        for i in range(count):
            writer.writerow([f"+1555{i:07d}", f"Ada{i}"])
    message = folder / "message.json"
    message.write_text(json.dumps({"content": {"kind": "text", "text": "Hi {first_name}"}}))
    return recipients, message


def _write_config(folder: Path, base: str, plan: ChaosPlan) -> Path:
    """The ``rcskit.toml`` of the campaign's account (the secret from the environment)."""
    path = folder / "rcskit.toml"
    path.write_text(
        "[providers.chaos]\n"
        'kind = "dotgo"\n'
        'bot_id = "chaosbot"\n'
        'client_id = "chaos-client"\n'
        'client_secret_env = "RCSKIT_CLIENT_SECRET"\n'
        f'server_root = "{base}/rcs"\n'
        f'auth_url = "{base}/auth/oauth/token"\n'
        f"client_message_ids = {'true' if plan.client_message_ids else 'false'}\n",
        encoding="utf-8",
    )
    return path


async def _create(database: str, base: str, plan: ChaosPlan, folder: Path) -> None:
    recipients, message = _write_inputs(folder, plan.recipients)
    cmd = _cli(
        "create",
        "--name", "chaos",
        "--provider", "chaos",
        "--config", str(_write_config(folder, base, plan)),
        "--csv", str(recipients),
        "--message", str(message),
        "--tps", f"{plan.tps:g}",
        "--capabilities", "none",
        "--retry-max-delay", f"{plan.retry_max_delay:g}",
        "--fallback", f"csv:{folder / 'fallback.csv'}",
        "--id", CAMPAIGN,
        "--database", database,
    )  # fmt: skip
    done = await asyncio.to_thread(
        subprocess.run, cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"campaign create failed: {done.stderr.strip()[-2000:]}")


class _Database:
    """A fresh PostgreSQL database for one run (created, then dropped)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"rcskit_chaos_{uuid.uuid4().hex[:10]}"
        self.url = admin_url.rsplit("/", 1)[0] + f"/{self.name}"

    async def __aenter__(self) -> str:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await admin.close()
        await migrate(self.url)
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        admin = await asyncpg.connect(self.admin_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await admin.close()


def checks_of(
    plan: ChaosPlan, statuses: dict[str, int], report: dict[str, Any], killed_in_flight: int
) -> list[Check]:
    open_ = {s: n for s, n in statuses.items() if s not in TERMINAL}
    total = sum(statuses.values())
    unknown = statuses.get("unknown", 0)
    per_recipient: dict[str, int] = report["per_recipient"]
    twice = sum(1 for n in per_recipient.values() if n > 1)
    safe = plan.client_message_ids and (plan.dedupe or plan.status_lookup)
    checks = [
        Check(
            "terminal",
            not open_ and total == plan.recipients,
            f"{total} recipients, not terminal: {open_ or 'none'}",
        ),
    ]
    if safe:
        checks.append(
            Check(
                "no_duplicates",
                twice == 0 and report["duplicates"] == 0,
                f"{twice} recipients received twice; {report['duplicates']} duplicate accepts,"
                f" {report['ignored']} ignored by the platform's de-duplication",
            )
        )
        checks.append(
            Check(
                "unknown_bounded", unknown == 0, f"{unknown} unknown (none expected: lookup/dedupe)"
            )
        )
    else:
        faults = report.get("faults", {})
        ambiguous = int(faults.get("timeout", 0)) + int(faults.get("lost", 0))
        bound = killed_in_flight + ambiguous
        checks.append(
            Check(
                "unknown_bounded",
                unknown <= bound,
                f"{unknown} unknown, at most {bound}: {killed_in_flight} in flight at the kill"
                f" + {ambiguous} injected ambiguous answers (timeouts, lost)",
            )
        )
    sent = statuses.get("sent", 0)
    checks.append(
        Check(
            "delivered",
            sent <= len(per_recipient),
            f"{sent} sent in the store, {len(per_recipient)} recipients accepted by the platform",
        )
    )
    checks.append(
        Check(
            "second",
            report["worst_1s"] <= report["limit_1s"],
            f"worst sliding 1 s: {report['worst_1s']} (rule {report['limit_1s']})",
        )
    )
    checks.append(
        Check(
            "window30",
            report["worst_30s"] <= report["limit_30s"],
            f"worst sliding 30 s: {report['worst_30s']} (rule {report['limit_30s']})",
        )
    )
    return checks


async def run_chaos(
    plan: ChaosPlan, admin_url: str, log: Callable[[str], None] = lambda _: None
) -> ChaosResult:
    """Run ``plan`` on a fresh database next to ``admin_url`` (a PostgreSQL URL)."""
    folder = Path(tempfile.mkdtemp(prefix="rcskit-chaos-"))
    redis = RedisServer()
    redis.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    f = plan.faults
    platform_cmd = [
        sys.executable, "-m", "tests.chaos.fake_provider",
        "--port", str(port), "--tps", f"{plan.tps:g}", "--seed", str(plan.seed),
        "--rate-429", str(f.rate_429), "--rate-5xx", str(f.rate_5xx),
        "--rate-timeout", str(f.rate_timeout), "--rate-lost", str(f.rate_lost),
        "--timeout-s", str(f.timeout_s), "--boost",
        *(() if plan.dedupe else ("--no-dedupe",)),
        *(() if plan.status_lookup else ("--no-status",)),
    ]  # fmt: skip
    platform = subprocess.Popen(platform_cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    workers: list[subprocess.Popen[bytes]] = []
    events: list[str] = []
    t0 = time.monotonic()

    def note(text: str) -> None:
        events.append(f"{time.monotonic() - t0:6.1f}s {text}")
        log(events[-1])

    try:
        await _wait_up(base)
        async with _Database(admin_url) as database:
            await _create(database, base, plan, folder)
            note("campaign created")
            cmd = worker_command(database, redis.url, plan)
            for i in range(plan.workers):
                workers.append(
                    subprocess.Popen(
                        cmd,
                        cwd=ROOT,
                        env=_env(),
                        stdout=subprocess.DEVNULL,
                        stderr=open(folder / f"worker{i}.err", "wb"),  # noqa: SIM115
                    )
                )
            note(f"{plan.workers} workers: {' '.join(cmd[2:])}")
            start = start_command(database)  # while the workers start up
            done = await asyncio.to_thread(
                subprocess.run, start, capture_output=True, text=True, cwd=ROOT, env=_env()
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(start[2:5])} failed: {done.stderr.strip()}")
            note("campaign started: " + " ".join(start[2:5]))
            killed_in_flight = 0
            stages = ["kill", "stop", "redis"]
            stopped_until: float | None = None
            next_look = 0.0
            started = time.monotonic()
            finished_s: float | None = None
            deadline = started + plan.deadline_s
            async with aiohttp.ClientSession() as session:
                while time.monotonic() < deadline:
                    accepted = (await _count(session, base))["deliveries"] / plan.recipients
                    if stages and stages[0] == "kill" and accepted >= plan.kill_at:
                        workers[0].send_signal(signal.SIGKILL)
                        killed_in_flight = plan.concurrency
                        stages.pop(0)
                        note(f"kill -9 worker 0 at {accepted:.0%} delivered")
                    elif stages and stages[0] == "stop" and accepted >= plan.stop_at:
                        if len(workers) > 1:
                            workers[1].send_signal(signal.SIGSTOP)
                            stopped_until = time.monotonic() + plan.lease + 2.0
                            note(f"SIGSTOP worker 1 at {accepted:.0%} for {plan.lease + 2:g} s")
                        stages.pop(0)
                    elif stages and stages[0] == "redis" and accepted >= plan.redis_restart_at:
                        await asyncio.to_thread(redis.restart)
                        stages.pop(0)
                        note(f"Redis restarted at {accepted:.0%}")
                    if stopped_until is not None and time.monotonic() >= stopped_until:
                        workers[1].send_signal(signal.SIGCONT)
                        stopped_until = None
                        note("SIGCONT worker 1")
                    if stopped_until is None and not stages:
                        if all(w.poll() is not None for w in workers):
                            break
                        if time.monotonic() >= next_look:  # `rcskit worker` never exits
                            next_look = time.monotonic() + 1.0
                            if _all_terminal(await recipient_statuses(database, CAMPAIGN)):
                                finished_s = time.monotonic() - started
                                note("every recipient terminal")
                                break
                    await asyncio.sleep(0.1)
            if time.monotonic() >= deadline:
                note(f"deadline: not done {plan.deadline_s:g} s after the workers started")
                # before the workers stop (and release what they hold): who holds what
                for line in await open_recipients(database, CAMPAIGN):
                    note(f"open at the deadline: {line}")
            for w in workers:
                if w.poll() is None:
                    w.send_signal(signal.SIGCONT)
                    w.terminate()
            for i, w in enumerate(workers):
                try:
                    await asyncio.to_thread(w.wait, 10)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
                    note(f"worker {i} did not stop on SIGTERM: killed")
                err = (folder / f"worker{i}.err").read_text(errors="replace").strip()
                if err:
                    note(f"worker {i} stderr: {err[-300:]}")
            note("workers done: exit codes " + ", ".join(str(w.returncode) for w in workers))
            statuses = await recipient_statuses(database, CAMPAIGN)
        report = await _report(base)
        checks = checks_of(plan, statuses, report, killed_in_flight)
        at = worst_window_start(report["arrivals"], 1.0)
        if at is not None:  # both monotonic clocks are the system's (CLOCK_MONOTONIC)
            note(f"the worst sliding second starts at {at - t0:.1f}s")
        if any(not c.holds for c in checks):
            note(f"the workers' stderr is kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
        return ChaosResult(checks, statuses, report, events, cmd, finished_s)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        platform.kill()
        platform.wait()
        redis.close()
