"""End-to-end latency: a user's message in the emulator -> the bot's webhook -> its reply.

The emulator (``rcskit emulator``) and the echo bot (``rcskit run examples/echo_bot.py:bot
--provider emulator``, durable SQLite inbox) run as the README runs them, each in its own
process. A simulated phone sends ``N`` texts one after the other through the admin API; for
each, the latency is the emulator's own time between receiving the user's message (and posting
the webhook) and receiving the bot's reply (``/messages/async``), read from its records.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
N = 300
BOT_ID = "OsOsQ0GwNvUdLTV9Bd"
PHONE = "+14251234567"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(port: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def _call(url: str, body: Any | None = None, method: str = "GET") -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["history"][0]["at"].replace("Z", "+00:00"))


def run() -> str:
    """Run the round-trip benchmark; return its Markdown section."""
    emu_port, bot_port = _free_port(), _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rcskit = [sys.executable, "-m", "rcskit.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "rcskit.toml").write_text(
            f'[providers.emulator]\nkind = "dotgo"\nbot_id = "{BOT_ID}"\n'
            'client_id = "dotgo-demo-client"\nclient_secret_env = "RCSKIT_EMULATOR_CLIENT_SECRET"\n'
            f'server_root = "http://127.0.0.1:{emu_port}/dotgo/rcs"\n'
            f'auth_url = "http://127.0.0.1:{emu_port}/dotgo/auth/oauth/token"\n'
        )
        env["RCSKIT_EMULATOR_CLIENT_SECRET"] = "rcskit-emulator-demo-secret"
        emulator = subprocess.Popen(
            [*rcskit, "emulator", "--port", str(emu_port)],
            cwd=tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bot = None
        try:
            _wait(emu_port)
            bot = subprocess.Popen(
                [
                    *rcskit,
                    "run",
                    str(ROOT / "examples" / "echo_bot.py") + ":bot",
                    "--port",
                    str(bot_port),
                    "--provider",
                    "emulator",
                    "--log-level",
                    "warning",
                ],
                cwd=tmp,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _wait(bot_port)
            admin = f"http://127.0.0.1:{emu_port}/_emulator"
            # the [providers.emulator] table above points the client at this emulator; the
            # webhook registration uses the same base URL
            _call(
                f"{admin}/bots/{BOT_ID}/webhook",
                {"url": f"http://127.0.0.1:{bot_port}/webhook"},
                "PUT",
            )
            latencies = []
            for i in range(N + 20):
                sent = _call(
                    f"{admin}/phones/{PHONE}/actions",
                    {"type": "text", "text": f"ping {i}", "bot_id": BOT_ID},
                    "POST",
                )
                reply = None
                deadline = time.monotonic() + 10
                while reply is None and time.monotonic() < deadline:
                    time.sleep(0.002)
                    convo = _call(f"{admin}/phones/{PHONE}/conversation")
                    for c in convo["conversations"]:
                        for m in c["messages"]:
                            text = m["content"].get("textMessage", "")
                            if m["direction"] == "a2p" and text == f"You wrote: ping {i}":
                                reply = m
                if reply is None:
                    raise RuntimeError(f"no reply to ping {i}")
                if i >= 20:  # warm-up
                    latencies.append((_at(reply) - _at(sent)).total_seconds() * 1000)
        finally:
            for proc in (bot, emulator):
                if proc is not None:
                    proc.terminate()
                    proc.wait(10)
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return "\n".join(
        [
            "## Round trip: emulator webhook -> bot -> reply (`python bench/run.py roundtrip`)",
            "",
            f"{N} texts from a simulated phone, one after the other, to the echo bot served by "
            "`rcskit run examples/echo_bot.py:bot --provider emulator` (durable SQLite inbox, "
            "uvicorn) against `rcskit emulator`, each in its own process. Latency on the "
            "emulator's own clock, from receiving the user's message (the webhook is posted at "
            "once) to receiving the bot's reply on its Dotgo API.",
            "",
            "| p50 | p90 | p99 | max |",
            "|---:|---:|---:|---:|",
            f"| {p50:.1f} ms | {latencies[int(len(latencies) * 0.9) - 1]:.1f} ms "
            f"| {p99:.1f} ms | {latencies[-1]:.1f} ms |",
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
