"""With ``--log-format json``, every log line of a command serving through uvicorn is JSON,
uvicorn's own lines included (its warnings, errors and access lines).

Each command runs as a user starts it (a subprocess on a free port). A request uvicorn cannot
parse makes uvicorn itself log a warning ("Invalid HTTP request received."): that line must come
out as a JSON object from the ``uvicorn.error`` logger, like every other line on stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.observability.pipes import Lines

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests/data/seeds/maap/webhook_message.json"


def start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen[str], Lines, Lines]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCSKIT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "rcskit.cli", *args, "--log-format", "json"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, Lines(process.stdout), Lines(process.stderr)


def garbage_request(host: str, port: int) -> None:
    """Bytes that are not HTTP: uvicorn answers 400 and logs a warning of its own."""
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        conn.settimeout(10)
        with contextlib.suppress(OSError):
            conn.recv(4096)


def stop(process: subprocess.Popen[str], out: Lines, err: Lines) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    out.join()
    err.join()


# command, the stdout line that gives its base URL, a request a working server answers
COMMANDS = {
    "demo": (["demo", "--port", "0", "--no-browser"], r"All phones:\s+(http://\S+?)/?$", "/"),
    "emulator": (["emulator", "--port", "0"], r"rcskit emulator on (http://\S+)", "/"),
    "run": (
        ["run", str(ROOT / "examples/echo_bot.py") + ":bot", "--port", "0", "--log-level", "info"],
        r"serving .* on (http://\S+?)/webhook",
        "/health",
    ),
    "campaign webhook": (  # no --token: its warning is a JSON line too
        ["campaign", "webhook", "--provider", "maap", "--port", "0", "--database", "c.db"],
        r"receiving maap webhooks on (http://\S+?)/webhook",
        "/webhook",
    ),
    "tail": (  # the events stay text lines on stdout; the logs on stderr are JSON
        ["tail", "--port", "0"],
        r"listening on (http://\S+?)/webhook",
        "/webhook",
    ),
}


@pytest.fixture(params=list(COMMANDS))
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, str, str, subprocess.Popen[str], Lines, Lines]]:
    name = request.param
    args, pattern, path = COMMANDS[name]
    process, out, err = start(args, tmp_path)
    try:
        yield name, pattern, path, process, out, err
    finally:
        if process.poll() is None:
            stop(process, out, err)


def test_every_log_line_is_json_uvicorn_lines_included(
    served: tuple[str, str, str, subprocess.Popen[str], Lines, Lines],
) -> None:
    name, pattern, path, process, out, err = served
    base = out.wait_for(pattern).group(1)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    if path == "/webhook":  # the campaign intake or tail: a webhook it reads, answered 200
        body = SEED.read_bytes()
        headers = {"Content-Type": "application/json"}
        req = urllib.request.Request(base + path, data=body, headers=headers, method="POST")
    else:
        req = urllib.request.Request(base + path)
    with urllib.request.urlopen(req, timeout=30) as answer:
        assert answer.status == 200
    garbage_request(host, int(port))
    err.wait_for(r"Invalid HTTP request received")
    stop(process, out, err)

    records = err.records()  # every stderr line parses as one JSON object
    assert all({"time", "level", "logger", "event"} <= set(r) for r in records)
    warning = next(r for r in records if r["event"] == "Invalid HTTP request received.")
    assert warning["logger"] == "uvicorn.error" and warning["level"] == "warning"
    assert not any("color_message" in r for r in records)
    if name == "run":  # --log-level info: uvicorn's start line and access lines, as JSON
        access = [r for r in records if r["logger"] == "uvicorn.access"]
        assert any("GET /health" in str(r["event"]) for r in access), records
        note = next(r for r in records if str(r["event"]).startswith("note: the bot has no"))
        assert note["level"] == "warning" and note["logger"] == "rcskit.cli"
    if name == "tail":  # the event it received, printed on stdout as before
        out.wait_for(r"^\d\d:\d\d:\d\d  gsma +message ")
    # stdout carries the command's own output (banner, URLs), never a log record
    for line in out.lines:
        assert not re.match(r"(INFO|WARNING|ERROR|DEBUG):", line), line
        assert "Invalid HTTP request" not in line and '"GET /' not in line
