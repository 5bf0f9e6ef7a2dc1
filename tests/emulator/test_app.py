"""The app factory, the start-up banner, the CLI command and a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from rcskit.cli.emulator import register
from rcskit.emulator import app as app_module
from rcskit.emulator import create_app, default_config
from rcskit.emulator.app import banner
from rcskit.emulator.config import DEMO_CLIENT_SECRET, EmulatorConfig, EmulatorConfigError

from .asgi_call import basic
from .conftest import GSMA_BOT, make_config, text_body
from .receiver import Receiver


def test_every_provider_needs_a_flavour() -> None:
    with pytest.raises(EmulatorConfigError, match="no flavour serves provider"):
        create_app(default_config(), flavours=())
    assert create_app(EmulatorConfig()).state.emulator.bots == {}


def test_banner_shows_secrets_only_when_asked() -> None:
    config = default_config()
    secret = config.bots[0].client_secret.get_secret_value()
    hidden = banner(config, "http://127.0.0.1:8000")
    assert secret not in hidden
    assert "http://127.0.0.1:8000/dotgo/rcs" in hidden
    assert "http://127.0.0.1:8000/dotgo/auth/oauth/token" in hidden
    assert "http://127.0.0.1:8000/_emulator/" in hidden
    assert "OsOsQ0GwNvUdLTV9Bd" in hidden and "--show-credentials" in hidden
    shown = banner(config, "http://127.0.0.1:8000", show_credentials=True)
    assert f"client_secret: {secret}" in shown
    assert "private_key: -----BEGIN" in shown  # the Orange bot's generated key


def test_cli_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[tuple[str, int, EmulatorConfig | None]] = []

    def serve(
        h: str, p: int, c: EmulatorConfig | None, *, sock: socket.socket, **_options: Any
    ) -> None:
        assert sock.getsockname()[1] == p  # already listening on the port it announced
        sock.close()
        calls.append((h, p, c))

    monkeypatch.setattr(app_module, "serve", serve)
    cli = typer.Typer()
    register(cli)

    @cli.command("other")
    def other() -> None:
        """A second command so Typer keeps subcommands."""

    runner = CliRunner()
    result = runner.invoke(cli, ["emulator", "--port", "0"])
    assert result.exit_code == 0, result.output
    port = calls[0][1]
    assert port != 0 and f"http://127.0.0.1:{port}/dotgo/rcs" in result.output
    assert "client_secret=" not in result.output
    assert calls[0][0] == "127.0.0.1"
    started = calls[0][2]
    assert started is not None
    assert started.bots[0].client_secret.get_secret_value() == DEMO_CLIENT_SECRET
    result = runner.invoke(cli, ["emulator", "--port", "0", "--client-secret", "s3cr3t-value"])
    assert result.exit_code == 0 and "s3cr3t-value" not in result.output
    assert calls[1][2] is not None
    assert calls[1][2].bots[0].client_secret.get_secret_value() == "s3cr3t-value"
    config = tmp_path / "emu.toml"
    config.write_text(
        '[[bots]]\nid = "B1"\nprovider = "dotgo"\nclient_id = "c1"\nclient_secret = "zz"\n'
    )
    result = runner.invoke(
        cli, ["emulator", "--port", "0", "--config", str(config), "--show-credentials"]
    )
    assert result.exit_code == 0
    assert "B1  provider=dotgo  client_id=c1\n    client_secret: zz" in result.output
    assert calls[2][2] is not None and calls[2][2].bots[0].id == "B1"
    config.write_text("[[bots]]\nid = 3\n")
    result = runner.invoke(cli, ["emulator", "--config", str(config)])
    assert result.exit_code == 2
    assert "error:" in result.output and "bots.0" in result.output


async def test_real_server_with_the_system_clock(receiver: Receiver) -> None:
    app = create_app(make_config(receiver.url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        bot = app.state.emulator.bots[GSMA_BOT]
        auth = basic(bot.client_id, bot.client_secret.get_secret_value())
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{base}/dotgo/auth/oauth/token?grant_type=client_credentials", headers=auth
            ) as resp:
                token = (await resp.json())["access_token"]
            async with session.post(
                f"{base}/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/async",
                json=text_body(),
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:
                assert resp.status == 202
                msg_id = (await resp.json())["RCSMessage"]["msgId"]
        for _ in range(100):  # the background timer task delivers without run_due
            if receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]:
                break
            await asyncio.sleep(0.01)
        assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]
    finally:
        server.should_exit = True
        await task
