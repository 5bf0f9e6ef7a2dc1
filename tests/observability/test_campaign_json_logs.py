"""``--log-format json`` on the campaign commands: ``rcskit worker`` and ``rcskit campaign run``
run as processes against a real emulator server on SQLite, and every line they write on stderr
must parse as one JSON object: their notes, the run's summary with its counts, the Redis
limiter's warnings and their errors. Text mode is checked by the campaign CLI tests.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rcskit.campaign import Progress, RunSummary
from rcskit.observability.logs import configure_logging
from tests.campaign.conftest import (
    CLIENTS,
    GOOGLE_BOT,
    SECRETS,
    EmulatorServer,
    emulator_toml,
    free_port,
    run_cli,
    write_recipients,
)

MESSAGE = {"content": {"kind": "text", "text": "Spring sale, {first_name}"}}
COUNT = 12


class JsonLines:
    """Collects a pipe's lines in a thread; each must be one JSON object."""

    def __init__(self, pipe: Any) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: Any) -> None:
        for line in pipe:
            self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(timeout=10)

    def records(self) -> list[dict[str, Any]]:
        """Every line as a JSON object (a line that is not one fails the test)."""
        return parse(self.lines)

    def wait_for(
        self, event: str | None = None, *, text: str = "", timeout: float = 60.0, **fields: Any
    ) -> dict[str, Any]:
        """The first record with ``event`` (any, if ``None``), ``text`` in its message and
        ``fields``, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in parse(list(self.lines)):
                if (
                    event in (None, record["event"])
                    and text in record["message"]
                    and all(record.get(k) == v for k, v in fields.items())
                ):
                    return record
            time.sleep(0.05)
        raise AssertionError(f"no {event} {text!r} {fields} line in {self.lines}")


def parse(lines: list[str]) -> list[dict[str, Any]]:
    out = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r} (all: {lines})") from None
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "event", "message"} <= set(record), record
        out.append(record)
    return out


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RCSKIT_")}
    return {**clean, "RCSKIT_CLIENT_SECRET": SECRETS[GOOGLE_BOT]}


def rcskit(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rcskit.cli", *args, "--log-format", "json"],
        capture_output=True,
        text=True,
        env=env(),
        timeout=timeout,
    )


def start(*args: str) -> tuple[subprocess.Popen[str], JsonLines]:
    process = subprocess.Popen(
        [sys.executable, "-m", "rcskit.cli", *args, "--log-format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    return process, JsonLines(process.stderr)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def create(
    tmp_path: Path, server: EmulatorServer, db: str, cid: str, *extra: str, tps: str = "50"
) -> None:
    csv_path = write_recipients(tmp_path / f"{cid}.csv", COUNT)
    message = tmp_path / "message.json"
    message.write_text(json.dumps(MESSAGE), encoding="utf-8")
    done = run_cli(
        "create",
        "--name", f"json logs {cid}",
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
        *extra,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture
def server(emulator_factory: Any) -> EmulatorServer:
    started: EmulatorServer = emulator_factory(
        emulator_toml(count=COUNT, rcs_ratio=1.0, fault_rate=0.0)
    )
    return started


async def test_campaign_run_writes_json_lines_only(tmp_path: Path, server: EmulatorServer) -> None:
    db = str(tmp_path / "campaign.db")
    create(tmp_path, server, db, "spring")
    done = rcskit("campaign", "run", "spring", "--database", db)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # the run prints nothing for scripts on stdout, as in text mode
    records = parse(done.stderr.splitlines())
    # no Alembic chatter at INFO when the SQLite store is opened (and migrated)
    assert [r["event"] for r in records] == ["campaign_started", "campaign_finished"], records
    begun = records[0]
    assert (begun["campaign"], begun["provider"], begun["level"]) == (
        "spring",
        "dotgo_google",
        "info",
    )
    summary = records[-1]
    assert summary["logger"] == "rcskit.cli" and summary["finished"] is True
    assert (summary["sent"], summary["failed"], summary["unknown"], summary["waiting"]) == (
        COUNT,
        0,
        0,
        0,
    )
    assert summary["campaign"] == "spring" and summary["provider"] == "dotgo_google"
    assert summary["message"].startswith("campaign spring: finished in ")
    assert f"{COUNT} sent, 0 failed" in summary["message"]
    assert len(await server.accepted_sends(GOOGLE_BOT)) == COUNT


def test_campaign_run_notes_and_an_unfinished_summary_are_json(
    tmp_path: Path, server: EmulatorServer
) -> None:
    db = str(tmp_path / "campaign.db")
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    create(tmp_path, server, db, "later", "--start", later.isoformat())
    done = rcskit("campaign", "run", "later", "--database", db, "--no-wait")
    assert done.returncode == 0, done.stderr
    records = parse(done.stderr.splitlines())
    note = next(r for r in records if r["event"] == "campaign_note")
    assert note["message"] == f"the campaign starts at {later:%Y-%m-%d %H:%M} UTC"
    assert (note["campaign"], note["provider"]) == ("later", "dotgo_google")
    summary = records[-1]
    assert summary["event"] == "campaign_stopped" and summary["finished"] is False
    assert (summary["sent"], summary["waiting"]) == (0, COUNT)
    assert summary["message"].startswith("campaign later: not finished in ")


def test_campaign_run_errors_are_json_lines(tmp_path: Path, server: EmulatorServer) -> None:
    db = str(tmp_path / "campaign.db")
    create(tmp_path, server, db, "spring")
    done = rcskit("campaign", "run", "autumn", "--database", db)
    assert done.returncode == 1
    (record,) = parse(done.stderr.splitlines())
    assert (record["level"], record["event"]) == ("error", "error")
    assert record["message"] == "no campaign with id 'autumn'"


def test_redis_warnings_are_json_lines_with_the_campaign(
    tmp_path: Path, server: EmulatorServer
) -> None:
    """The shared limiter's "Redis unreachable" warning (a log record of the campaign engine)
    is a JSON line that carries the campaign and its provider."""
    db = str(tmp_path / "campaign.db")
    create(tmp_path, server, db, "spring")
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # no Redis listens there
    process, err = start("campaign", "run", "spring", "--database", db, "--redis", nobody)
    try:
        err.wait_for("campaign_started", campaign="spring")
        warning = err.wait_for(text="Redis unreachable")
    finally:
        stop(process)
        err.join()
    assert warning["level"] == "warning"
    assert warning["logger"] == "rcskit.campaign.redis_limiter"
    assert (warning["campaign"], warning["provider"]) == ("spring", "dotgo_google")
    err.records()  # every line, to the end, is JSON


async def test_worker_writes_json_lines_only(tmp_path: Path, server: EmulatorServer) -> None:
    db = str(tmp_path / "campaign.db")
    create(tmp_path, server, db, "spring")
    process, err = start("worker", "--database", db)
    try:
        started = err.wait_for("worker_started")
        worker = started["worker"]
        assert started["message"] == (
            f"worker {worker} serving the running campaigns (Ctrl-C stops it)"
        )
        resumed = run_cli("resume", "spring", "--database", db)
        assert resumed.returncode == 0, resumed.stderr
        finished = err.wait_for("campaign_finished", campaign="spring", timeout=90)
    finally:
        stop(process)
        err.join()
    assert process.returncode == 0
    assert (finished["provider"], finished["worker"], finished["finished"]) == (
        "dotgo_google",
        worker,
        True,
    )
    assert (finished["sent"], finished["failed"], finished["waiting"]) == (COUNT, 0, 0)
    records = err.records()  # every line, to the end, is JSON
    events = [r["event"] for r in records]
    served = [r for r in records if r["event"] == "campaign_served"]
    assert [(r["campaign"], r["provider"], r["worker"]) for r in served] == [
        ("spring", "dotgo_google", worker)
    ]
    assert events[-1] == "worker_stopped" and records[-1]["worker"] == worker
    # the pool's own text notes of the same facts are not repeated as extra lines
    assert sum("serving campaign spring" in r["message"] for r in records) == 1
    assert len(await server.accepted_sends(GOOGLE_BOT)) == COUNT


def test_worker_reports_a_failed_campaign_as_an_error_line(
    tmp_path: Path, server: EmulatorServer
) -> None:
    """A run that cannot start (its fallback sender does not load) is one error line with the
    campaign, not the engine's text note as well."""
    db = str(tmp_path / "campaign.db")
    create(tmp_path, server, db, "spring", "--fallback", "rcskit_no_such_module:sender")
    assert run_cli("resume", "spring", "--database", db).returncode == 0
    process, err = start("worker", "--database", db)
    try:
        failed = err.wait_for("campaign_failed", campaign="spring", timeout=90)
        time.sleep(1.5)  # a look of the pool or more: its own note of the failure came and went
    finally:
        stop(process)
        err.join()
    assert failed["level"] == "error" and failed["provider"] == "dotgo_google"
    assert failed["retry_in_s"] == 60
    assert "rcskit_no_such_module:sender" in failed["error"]
    assert failed["message"] == f"campaign spring: {failed['error']} (trying again in 60 s)"
    records = err.records()  # every line, to the end, is JSON
    assert sum("trying again in" in r["message"] for r in records) == 1  # not twice


async def test_progress_lines_are_spaced_and_the_run_carries_its_campaign() -> None:
    """``campaign run --log-format json`` with progress on: a ``campaign_progress`` line at most
    every ``PROGRESS_LOG_S``; the engine's own records inside carry the campaign."""
    from rcskit.cli import campaign as cli

    out = io.StringIO()
    handler = configure_logging("json", stream=out)
    clock = [1000.0]

    async def run_it(**kw: Any) -> RunSummary:
        progress = Progress(total=3)
        for step in (1, 2, 3):
            clock[0] += 6.0  # 6 s after the start, then 12 s, then 18 s
            progress.done = progress.sent = step
            kw["on_progress"](progress)
        kw["notify"]("a note for +15550000007")
        logging.getLogger("rcskit.campaign").warning("from the engine")
        return RunSummary("spring", True, progress, 18.0)

    class Campaign:
        id = "spring"
        provider = "dotgo"

    try:
        summary = await cli._run_logged(Campaign(), run_it, progress=True, clock=lambda: clock[0])  # type: ignore[arg-type]
    finally:
        logging.getLogger().removeHandler(handler)
    assert summary.finished
    records = parse(out.getvalue().splitlines())
    assert [r["event"] for r in records] == [
        "campaign_started",
        "campaign_progress",  # 12 s after the start; 6 s and 18 s were too soon
        "campaign_note",
        "from the engine",
        "campaign_finished",
    ]
    progress = records[1]
    assert (progress["done"], progress["total"], progress["sent"]) == (2, 3, 2)
    assert records[2]["message"] == "a note for +*********07"  # numbers masked
    engine = records[3]
    assert (engine["campaign"], engine["provider"], engine["level"]) == (
        "spring",
        "dotgo",
        "warning",
    )
