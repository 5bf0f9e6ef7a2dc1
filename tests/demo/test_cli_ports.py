"""``rcskit demo --port``: 1-65535 or 0 (the banner shows the real port), a busy port in one
line."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
from typer.testing import CliRunner

from rcskit.cli import app as rcskit_cli
from rcskit.demo import server as demo_server


class NoServer:
    """What ``server_for`` gives in these tests: returns at once instead of serving."""

    async def serve(self, sockets: list[socket.socket]) -> None:
        for sock in sockets:
            sock.close()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    demos: list[Any] = []

    def server_for(demo: Any, **options: Any) -> NoServer:
        demos.append(demo)
        return NoServer()

    monkeypatch.setattr(demo_server, "server_for", server_for)
    return demos


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_a_usage_error(port: str, started: list[Any]) -> None:
    result = CliRunner().invoke(rcskit_cli, ["demo", "--no-browser", "--port", port])
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output
    assert "Phone page" not in result.output and not started


def test_port_zero_shows_the_real_port(started: list[Any]) -> None:
    result = CliRunner().invoke(rcskit_cli, ["demo", "--no-browser", "--port", "0"])
    assert result.exit_code == 0, result.output
    base = started[0].base_url
    port = int(base.rsplit(":", 1)[1])
    assert base == f"http://127.0.0.1:{port}" and port != 0
    assert f"All phones:   {base}/" in result.stdout


def test_a_busy_port_is_one_line(started: list[Any], busy_port: int) -> None:
    port = busy_port
    result = CliRunner().invoke(rcskit_cli, ["demo", "--no-browser", "--port", str(port)])
    assert result.exit_code == 1 and not started
    line = rf"error: cannot listen on 127\.0\.0\.1:{port} \(.+\); try --port \d+"
    assert re.fullmatch(line, result.stderr.strip()), result.stderr
    assert len(result.stderr.splitlines()) == 1
