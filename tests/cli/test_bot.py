"""``rcskit run`` and ``rcskit tail``, and loading a bot from ``file.py:bot``."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from rcskit.app import Bot
from rcskit.app.loader import load_bot
from rcskit.cli.bot import register, tail_bot
from tests.app.asgi_caller import call
from tests.seeds import DATA

BOT_FILE = """
from rcskit.app import Bot
bot = Bot(dedup="memory", name="from-file")
def make():
    return Bot(dedup="memory", name="factory")
not_a_bot = 3
"""


def test_load_bot_from_a_file_and_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mybot.py"
    path.write_text(BOT_FILE)
    assert load_bot(f"{path}:bot").name == "from-file"
    assert load_bot(str(path)).name == "from-file"
    assert load_bot(f"{path}:make").name == "factory"
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("mybot", None)
    assert load_bot("mybot:bot").name == "from-file"
    for target, reason in [
        (f"{path}:not_a_bot", "not an rcskit Bot"),
        (f"{path}:missing", "no attribute 'missing'"),
        (f"{tmp_path}/nope.py:bot", "no such file"),
        ("no_such_module_xyz:bot", "cannot import"),
        (":bot", "expected file.py:bot"),
    ]:
        with pytest.raises(ValueError, match=reason):
            load_bot(target)


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root."""

    register(app)
    return app


def fake_serve(served: list[tuple[Any, int, dict[str, Any]]]) -> Any:
    """A stand-in for ``commands.serve_on``: records (app, port, options), closes the socket."""

    def serve_on(app: Any, sock: socket.socket, **options: Any) -> None:
        served.append((app, sock.getsockname()[1], options))
        sock.close()

    return serve_on


def test_run_serves_the_bot_with_uvicorn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rcskit.cli import bot as commands

    served: list[tuple[Any, int, dict[str, Any]]] = []
    monkeypatch.setattr(commands, "serve_on", fake_serve(served))
    path = tmp_path / "served.py"
    path.write_text(BOT_FILE)
    result = CliRunner().invoke(cli(), ["run", f"{path}:bot", "--port", "0", "--host", "127.0.0.1"])
    assert result.exit_code == 0, result.output
    app, port, options = served[0]
    assert port != 0 and options == {"log_level": "info"}
    assert f"serving 'from-file' on http://127.0.0.1:{port}/webhook" in result.output
    assert app.bot.name == "from-file"
    failed = CliRunner().invoke(cli(), ["run", f"{path}:not_a_bot"])
    assert failed.exit_code == 1 and "not an rcskit Bot" in failed.output
    assert len(served) == 1


def test_tail_command_starts_a_printing_bot(monkeypatch: pytest.MonkeyPatch) -> None:
    from rcskit.cli import bot as commands

    served: list[tuple[Any, int, dict[str, Any]]] = []
    monkeypatch.setattr(commands, "serve_on", fake_serve(served))
    result = CliRunner().invoke(cli(), ["tail", "--port", "0", "--provider", "dotgo"])
    assert result.exit_code == 0, result.output
    app, port, _ = served[0]
    assert f"listening on http://127.0.0.1:{port}/webhook" in result.output
    assert app.bot.provider == "dotgo" and port != 0
    bad = CliRunner().invoke(cli(), ["tail", "--provider", "nope"])
    assert bad.exit_code == 1 and "unknown provider" in bad.output


async def test_tail_bot_prints_each_event(capsys: pytest.CaptureFixture[str]) -> None:
    bot = tail_bot("auto", show_raw=True)
    assert isinstance(bot, Bot)
    for name in (
        "maap/webhook_message.json",
        "dotgo_google/webhook_suggestion_response.json",
        "dotgo_billing/refund_event.json",
    ):
        assert (await call(bot.asgi, "POST", "/webhook", (DATA / name).read_bytes())).status == 200
    await bot.join()
    await bot.stop()
    lines = capsys.readouterr().out.splitlines()
    assert "message" in lines[0] and "+14251234567" in lines[0] and "'hello world'" in lines[0]
    assert json.loads(lines[1]) == json.loads((DATA / "maap/webhook_message.json").read_text())
    assert "suggestion_response" in lines[2] and "'Suggestion #1'" in lines[2]
    assert "billing" in lines[4] and "refund_complete" in lines[4]


def test_run_with_the_emulator_provider_builds_a_client_and_registers_the_webhook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcskit.app import loader
    from rcskit.cli import bot as commands

    path = tmp_path / "mybot.py"
    path.write_text(BOT_FILE)
    served: list[tuple[Any, int, dict[str, Any]]] = []
    registered: list[tuple[str, str, str]] = []
    monkeypatch.setattr(commands, "serve_on", fake_serve(served))
    monkeypatch.setattr(commands, "register_with_emulator", lambda *args: registered.append(args))
    monkeypatch.chdir(tmp_path)
    bot = Bot(dedup="memory", name="served")
    monkeypatch.setattr(loader, "load_bot", lambda target: bot)
    result = CliRunner().invoke(cli(), ["run", f"{path}:bot", "--port", "0", "-p", "emulator"])
    assert result.exit_code == 0, result.output
    port = served[0][1]
    assert registered == [
        (
            "http://127.0.0.1:8000/_emulator",
            "OsOsQ0GwNvUdLTV9Bd",
            f"http://127.0.0.1:{port}/webhook",
        )
    ]
    assert bot.client is not None and bot.client.provider.name == "dotgo"
    assert served[0][0] is bot.asgi


def test_run_says_how_to_start_the_emulator_when_it_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rcskit.cli import bot as commands

    path = tmp_path / "mybot2.py"
    path.write_text(BOT_FILE)
    served: list[tuple[Any, int, dict[str, Any]]] = []
    monkeypatch.setattr(commands, "serve_on", fake_serve(served))

    def down(*args: str) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(commands, "register_with_emulator", down)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli(), ["run", f"{path}:bot", "--port", "0", "-p", "emulator"])
    assert result.exit_code == 1 and not served
    assert "rcskit emulator" in result.output and "connection refused" in result.output
    result = CliRunner().invoke(cli(), ["run", f"{path}:bot", "--provider", "nope"])
    assert result.exit_code == 1
    assert "unknown provider 'nope'" in result.output
