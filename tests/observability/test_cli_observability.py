"""`rcskit run --metrics-port 0 --log-format json` as a user starts it: /metrics and JSON logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.pipes import Lines

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests/data/seeds/maap/webhook_message.json"


@pytest.fixture
def bot_process() -> Iterator[tuple[subprocess.Popen[str], Lines, Lines]]:
    command = [
        sys.executable, "-m", "rcskit.cli", "run", "examples/echo_bot.py:bot", "--port", "0",
        "--metrics-port", "0", "--log-format", "json",
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("RCSKIT_")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        yield process, out, err
    finally:
        process.terminate()
        process.wait(timeout=30)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        body = answer.read().decode()
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_run_serves_metrics_and_writes_json_lines(
    bot_process: tuple[subprocess.Popen[str], Lines, Lines],
) -> None:
    _process, out, err = bot_process
    metrics_url = err.wait_for(r"metrics on (http://\S+/metrics)").group(1)
    webhook_url = out.wait_for(r"serving .* on (http://\S+)").group(1)
    before = scrape(metrics_url)
    body = SEED.read_bytes()
    request = urllib.request.Request(
        webhook_url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    bad = urllib.request.Request(
        webhook_url, data=b"{", headers={"Content-Type": "application/json"}, method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad, timeout=10)
    assert refused.value.code == 400
    err.wait_for(r'"event": "handler failed')  # the bot has no client: its reply fails
    after = scrape(metrics_url)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    # the echo bot reads any format (provider "auto"); its events name their format
    (provider,) = {
        dict(labels)["provider"] for name, labels in after if name == "rcskit_webhook_events_total"
    }
    assert grew("rcskit_webhook_events_total", provider=provider, type="message") == 1
    assert grew("rcskit_webhook_rejected_total", reason="malformed") == 1
    assert grew("rcskit_webhook_ack_seconds_count", provider="auto") == 2
    assert grew("rcskit_handler_duration_seconds_count", provider=provider) == 1

    records = [json.loads(line) for line in err.lines if line.startswith("{")]
    assert records, err.lines
    assert all({"time", "level", "logger", "event"} <= set(r) for r in records)
    failed = next(r for r in records if r["event"].startswith("handler failed"))
    assert failed["level"] == "error" and failed["provider"] == provider
    assert "+14251234567" not in "\n".join(err.lines)  # phone numbers are masked


def test_metrics_port_taken_is_one_clear_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging
    import socket

    import typer

    from rcskit.cli.observability import start_observability

    monkeypatch.setenv("RCSKIT_METRICS_HOST", "127.0.0.1")
    root_handlers = list(logging.getLogger().handlers)
    root_level = logging.getLogger().level
    exposition = None
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            with pytest.raises(typer.Exit) as stopped:
                start_observability("text", port)
            assert stopped.value.exit_code == 1
            err = capsys.readouterr().err
            assert err.startswith(f"error: --metrics-port {port}: cannot listen")
            with pytest.raises(typer.Exit) as stopped:
                start_observability("json", port)  # the error is a JSON line too
            assert stopped.value.exit_code == 1
            error = json.loads(capsys.readouterr().err)
            assert (error["level"], error["event"]) == ("error", "error")
            assert error["message"].startswith(f"--metrics-port {port}: cannot listen")
        exposition = start_observability("json", 0)
        assert "metrics on http://127.0.0.1:" in capsys.readouterr().err
    finally:
        if exposition is not None:
            exposition.close()
        for handler in list(logging.getLogger().handlers):
            if handler not in root_handlers:
                logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(root_level)
