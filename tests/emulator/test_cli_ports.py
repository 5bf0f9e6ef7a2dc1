"""``rcskit emulator --port``: 1-65535 or 0, and a busy port is one line (no banner), exit 1."""

from __future__ import annotations

import re
import socket
from typing import Any

import pytest
from typer.testing import CliRunner

from rcskit.cli import app as rcskit_cli
from rcskit.emulator import app as app_module


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Stand-in for the emulator's server: records the port and closes the socket."""
    ports: list[int] = []

    def serve(host: str, port: int, config: Any, *, sock: socket.socket, **_options: Any) -> None:
        ports.append(sock.getsockname()[1])
        sock.close()

    monkeypatch.setattr(app_module, "serve", serve)
    return ports


@pytest.fixture
def busy(busy_port: int) -> int:
    return busy_port


def test_a_busy_port_is_one_line_and_no_banner(busy: int, served: list[int]) -> None:
    result = CliRunner().invoke(rcskit_cli, ["emulator", "--port", str(busy)])
    assert result.exit_code == 1
    assert result.stdout == ""  # no banner announcing URLs that do not work
    line = rf"error: cannot listen on 127\.0\.0\.1:{busy} \(.+\); try --port \d+"
    assert re.fullmatch(line, result.stderr.strip()), result.stderr
    assert len(result.stderr.splitlines()) == 1 and not served


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_a_usage_error(port: str, served: list[int]) -> None:
    result = CliRunner().invoke(rcskit_cli, ["emulator", "--port", port])
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output
    assert "rcskit emulator on" not in result.output and not served


def test_port_zero_announces_the_port_it_got(served: list[int]) -> None:
    result = CliRunner().invoke(rcskit_cli, ["emulator", "--port", "0"])
    assert result.exit_code == 0, result.output
    assert served[0] != 0
    assert result.stdout.startswith(f"rcskit emulator on http://127.0.0.1:{served[0]}\n")
