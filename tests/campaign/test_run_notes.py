"""What a run tells the user while it cannot send: recipients waiting for quiet hours to end
(in waiting and ``--no-wait`` runs, fresh or resumed), and a provider that refuses
connections (one warning per outage, recipients kept, the retry budget named).

In-process tests run the runner against the emulator's ASGI app with a fake clock (quiet
hours) or an instant backoff (retries); the command-line tests run ``rcskit campaign run`` in
a subprocess without a terminal, as a user's script would."""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rcskit.campaign import CapabilityMode, QuietHours, RunOptions, quiet_until, runner
from rcskit.store import RecipientStatus, Store
from rcskit.transport import ConnectError, HttpRequest, HttpResponse, Transport

from .conftest import GSMA_BOT, SECRETS, free_port, run_cli, start_cli, write_recipients
from .test_runner import SECRET, _log, _setup

NIGHT = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)  # 03:00 in New York (+1 555 numbers)
MORNING = datetime(2025, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 there: quiet hours are over


def _quiet_note(count: int) -> str:
    return (
        f"{count} recipient(s) wait until 2025-01-15 13:00 UTC: quiet hours 21:00-08:00 "
        "(recipient's local time)"
    )


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _accepted(app: Any) -> Counter[str]:
    return Counter(e.phone for e in _log(app, "agentMessages/async") if e.status == 200)


async def test_a_waiting_run_says_once_why_and_until_when_and_no_wait_counts_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "IDLE_SLEEP_S", 0.02)  # the idle loop turns many times
    clock = _Clock(NIGHT)
    async with _setup(tmp_path, 20, quiet_hours="21:00-08:00", clock=clock) as s:
        phones = s.app.state.emulator.phones
        rcs = {f"+1555{i:07d}" for i in range(20) if phones.get(f"+1555{i:07d}").rcs}

        # --no-wait, fresh: the note, and the summary counts the same recipients
        first = await s.runner(options=RunOptions(wait=False), clock=clock).run()
        assert [n for n in first.notes if "wait" in n] == [_quiet_note(len(rcs))]
        assert not first.finished and first.progress.waiting == len(rcs)

        # --no-wait again (resumed: this run deferred nothing itself): same note, same count
        again = await s.runner(options=RunOptions(wait=False), clock=clock).run()
        assert [n for n in again.notes if "wait" in n] == [n for n in first.notes if "wait" in n]
        assert again.progress.waiting == len(rcs) and again.progress.deferred == 0

        # waiting: the note once however often the run looks again, then the sends at 08:00
        notes: list[str] = []
        task = asyncio.create_task(s.runner(clock=clock, notify=notes.append).run())
        for _ in range(250):
            if notes:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # a dozen more idle turns
        assert notes == [_quiet_note(len(rcs))]
        assert not task.done() and _accepted(s.app) == Counter()
        clock.now = MORNING + timedelta(minutes=1)
        summary = await asyncio.wait_for(task, 20)
        assert summary.finished and summary.progress.sent == len(rcs)
        assert summary.progress.waiting == 0 and len(notes) == 1
        assert _accepted(s.app) == Counter({n: 1 for n in rcs}), "each exactly once"


async def test_no_wait_returns_when_more_recipients_wait_than_the_look_ahead(
    tmp_path: Path,
) -> None:
    """At 20 TPS the capability stage keeps 1,000 checked recipients ahead of the sends; when
    more than that wait for quiet hours to end, it must not wait for them to be sent."""
    async with _setup(tmp_path, 1300, quiet_hours="21:00-08:00", clock=lambda: NIGHT) as s:
        slow = dataclasses.replace(s.campaign, tps=20.0)
        notes: list[str] = []
        run = s.runner(
            slow, options=RunOptions(wait=False), clock=lambda: NIGHT, notify=notes.append
        )
        summary = await asyncio.wait_for(run.run(), 30)
        waiting = await s.store.campaigns.get_recipients(
            s.campaign.id, status=RecipientStatus.RCS, limit=5000
        )
        assert len(waiting) > 1000 and summary.progress.waiting == len(waiting)
        assert notes == [_quiet_note(len(waiting))]
        assert _accepted(s.app) == Counter()


class _Outages:
    """The emulator behind a switch: send calls (POSTs to ``marker``) numbered ``down`` fail
    to connect, as to a port where nothing listens; the others go through."""

    def __init__(self, inner: Transport, marker: str, down: set[int] | None = None) -> None:
        self.inner = inner
        self.marker = marker
        self.down = down
        self.calls = 0
        self.refused: Counter[str] = Counter()

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        if request.method == "POST" and self.marker in request.url:
            call, self.calls = self.calls, self.calls + 1
            if self.down is None or call in self.down:
                self.refused[request.url] += 1
                raise ConnectError(
                    f"POST {request.url.split('?')[0]}: cannot connect (ClientConnectorError)"
                )
        return await self.inner.send(request, timeout)

    async def close(self) -> None:
        await self.inner.close()


def _instant_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rcskit.campaign.outcomes.backoff", lambda attempts, **kw: 0.01)


async def test_an_unreachable_provider_is_reported_once_per_outage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _instant_retries(monkeypatch)
    outages: list[_Outages] = []

    def wrap(inner: Transport) -> Transport:
        outages.append(_Outages(inner, "agentMessages", down={0, 1, 2, 5, 6, 7}))
        return outages[0]

    async with _setup(tmp_path, 6, capabilities=CapabilityMode.NONE, wrap=wrap) as s:
        notes: list[str] = []
        summary = await s.runner(options=RunOptions(concurrency=1), notify=notes.append).run()
        warnings = [n for n in notes if n.startswith("warning:")]
        assert len(warnings) == 2, notes  # down, up (calls 3-4 answered), down again
        warning = warnings[0]
        assert "\n" not in warning and SECRET not in warning and "+1555" not in warning
        head = (
            "warning: provider dotgo_google unreachable (POST http://emulator: cannot connect "
            "(ClientConnectorError)); retrying the sends, next at "
        )
        assert all(w.startswith(head) for w in warnings)
        assert warning.endswith("; a recipient is marked failed after 8 attempts")
        assert not any("retry a failed send" in n for n in notes), "the warning says it"
        # nobody lost, nobody twice (no capability check: every number is tried over RCS)
        assert summary.finished and summary.progress.failed == 0
        assert summary.progress.sent == 6 and outages[0].refused.total() == 6
        assert _accepted(s.app) == Counter({f"+1555{i:07d}": 1 for i in range(6)})


async def test_the_retry_budget_is_named_and_spent_per_recipient(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _instant_retries(monkeypatch)
    outages: list[_Outages] = []

    def wrap(inner: Transport) -> Transport:
        outages.append(_Outages(inner, "agentMessages"))  # down for good
        return outages[0]

    async with _setup(tmp_path, 4, capabilities=CapabilityMode.NONE, wrap=wrap) as s:
        notes: list[str] = []
        summary = await s.runner(options=RunOptions(max_attempts=3), notify=notes.append).run()
        assert [n for n in notes if n.startswith("warning:")] == notes and len(notes) == 1
        assert notes[0].endswith("; a recipient is marked failed after 3 attempts")
        assert summary.finished and summary.progress.failed == 4
        assert sorted(outages[0].refused.values()) == [3, 3, 3, 3], "3 calls per recipient"
        failed = await s.store.campaigns.get_recipients(
            s.campaign.id, status=RecipientStatus.FAILED
        )
        assert len(failed) == 4
        assert all((r.error or "").startswith("gave up after 3 attempts") for r in failed)


async def test_refused_sends_wait_for_their_retry_and_say_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 500 is an answer: no "unreachable" warning; the recipients wait for their retry
    time, and a ``--no-wait`` run says how many and when the first is."""
    monkeypatch.setattr("rcskit.campaign.outcomes.backoff", lambda attempts, **kw: 60.0)

    class _Refusing(_Outages):
        async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
            if request.method == "POST" and self.marker in request.url and self.calls < 2:
                self.calls += 1
                return HttpResponse(500, {"Content-Type": "application/json"}, b"{}")
            return await self.inner.send(request, timeout)

    def wrap(inner: Transport) -> Transport:
        return _Refusing(inner, "agentMessages")

    clock = _Clock(datetime.now(UTC).replace(microsecond=0))
    async with _setup(tmp_path, 3, capabilities=CapabilityMode.NONE, wrap=wrap, clock=clock) as s:
        notes: list[str] = []
        first = await s.runner(
            options=RunOptions(wait=False), clock=clock, notify=notes.append
        ).run()
        retry = clock.now + timedelta(seconds=60)
        assert notes == [
            f"2 recipient(s) wait to retry a failed send, the first at "
            f"{retry:%Y-%m-%d %H:%M:%S} UTC"
        ]
        assert not first.finished and first.progress.waiting == 2 and first.progress.sent == 1
        clock.now = retry + timedelta(seconds=1)
        notes.clear()
        summary = await s.runner(
            options=RunOptions(wait=False), clock=clock, notify=notes.append
        ).run()
        assert summary.finished and summary.progress.sent == 2 and notes == []
        assert _accepted(s.app) == Counter({f"+1555{i:07d}": 1 for i in range(3)})


# ---------------------------------------------------------------- the command line


class _Lines:
    """A subprocess's standard error, line by line as it comes (no terminal)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stderr is not None
        stream = process.stderr
        threading.Thread(target=lambda: [self._queue.put(x) for x in stream], daemon=True).start()

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.lines.append(line.rstrip("\n"))
            if text in line:
                return line.rstrip("\n")
        raise AssertionError(f"no line with {text!r} within {timeout} s: {self.lines}")

    def drain(self) -> list[str]:
        while True:
            try:
                self.lines.append(self._queue.get(timeout=0.5).rstrip("\n"))
            except queue.Empty:
                return self.lines


def _create(tmp_path: Path, port: int, *extra: str) -> str:
    csv_path = write_recipients(tmp_path / "r.csv", 2)
    message = tmp_path / "msg.json"
    message.write_text('{"content": {"kind": "text", "text": "Hi {first_name}"}}', "utf-8")
    db = str(tmp_path / "c.db")
    done = run_cli(
        "create", "--name", "n", "--provider", "dotgo", "--bot-id", GSMA_BOT,
        "--client-id", "c", "--server-root", f"http://127.0.0.1:{port}/dotgo/rcs",
        "--auth-url", f"http://127.0.0.1:{port}/dotgo/auth/oauth/token",
        "--csv", str(csv_path), "--message", str(message), "--id", "c1", "--database", db,
        "--fallback", f"csv:{tmp_path / 'f.csv'}", *extra,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return db


def _stop(process: subprocess.Popen[str], lines: _Lines) -> list[str]:
    process.terminate()
    process.wait(timeout=10)
    return lines.drain()


async def _counts(db: str) -> dict[RecipientStatus, int]:
    async with await Store.open(db) as store:
        return await store.campaigns.count_recipients("c1")


def test_the_command_line_says_why_recipients_wait(tmp_path: Path) -> None:
    """Quiet hours around now in New York: ``run`` (progress on, no terminal) prints the
    note and waits; ``run --no-wait --no-progress`` prints it and counts the 2 as waiting."""
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo("America/New_York"))
    quiet = f"{local - timedelta(hours=1):%H:%M}-{local + timedelta(hours=2):%H:%M}"
    until = quiet_until("+15550000000", now, QuietHours.parse(quiet))
    assert until is not None
    note = f"2 recipient(s) wait until {until:%Y-%m-%d %H:%M} UTC: quiet hours {quiet}"
    db = _create(tmp_path, free_port(), "--quiet-hours", quiet, "--capabilities", "none")

    process = start_cli("run", "c1", "--database", db, secret=SECRETS[GSMA_BOT])
    lines = _Lines(process)
    assert lines.wait_for("wait until", 20) == f"{note} (recipient's local time)"
    time.sleep(1.5)
    assert process.poll() is None, "still waiting"
    out = _stop(process, lines)
    assert sum("wait until" in line for line in out) == 1, out

    done = run_cli("run", "c1", "--database", db, "--no-wait", "--no-progress",
                   secret=SECRETS[GSMA_BOT])  # fmt: skip
    assert done.returncode == 0, done.stderr
    err = done.stderr.splitlines()
    assert err[0] == f"{note} (recipient's local time)"
    assert len(err) == 2 and err[1].startswith("campaign c1: not finished in ")
    assert "0 sent, 0 failed, 0 fallen back, 0 unknown outcome, 2 waiting" in err[1]
    assert asyncio.run(_counts(db)) == {RecipientStatus.RCS: 2}
    status = run_cli("status", "c1", "--database", db)
    assert status.returncode == 0, status.stderr
    assert f"open: 2 (0 ready now; next due at {until:%Y-%m-%d %H:%M:%S} UTC)" in (status.stdout)


@pytest.mark.parametrize(
    ("capabilities", "retrying"),
    [
        ("none", "retrying the sends, next at "),
        ("check", "retrying the capability checks every 30 s, next at "),
    ],
)
def test_the_command_line_warns_at_once_when_the_provider_is_unreachable(
    tmp_path: Path, capabilities: str, retrying: str
) -> None:
    port = free_port()  # nothing listens there
    db = _create(tmp_path, port, "--capabilities", capabilities)
    process = start_cli("run", "c1", "--database", db, "--no-progress", secret=SECRETS[GSMA_BOT])
    lines = _Lines(process)
    started = time.monotonic()
    warning = lines.wait_for("unreachable", 15)
    assert time.monotonic() - started < 10
    assert warning.startswith(
        f"warning: provider dotgo unreachable (POST http://127.0.0.1:{port}: cannot connect "
        f"(ConnectionRefusedError)); {retrying}"  # the workers' lean HTTP client says so
    )
    if capabilities == "none":
        assert warning.endswith("; a recipient is marked failed after 8 attempts")
    time.sleep(3)  # several more refused attempts
    out = _stop(process, lines)
    assert out.count(warning) == 1 and len(out) == 1, out
    assert SECRETS[GSMA_BOT] not in "\n".join(out)
    # kept for the next run: nobody failed, nobody sent
    expected = RecipientStatus.RCS if capabilities == "none" else RecipientStatus.QUEUED
    assert asyncio.run(_counts(db)) == {expected: 2}
