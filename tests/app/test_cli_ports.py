"""``rcskit run`` / ``rcskit tail``: default port, port range, a busy port (one line, exit 1,
nothing registered with the emulator), and the labels of ``tail --provider auto``."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from rcskit import serving
from rcskit.cli import app as rcskit_cli
from rcskit.cli import bot as commands
from rcskit.cli.bot import tail_bot
from rcskit.cli.config import EMULATOR_URL
from rcskit.emulator import EmulatorState, create_app, default_config
from rcskit.emulator.config import DEMO_CLIENT_SECRET
from rcskit.serving import listen
from tests.app.asgi_caller import call
from tests.seeds import DATA

BOT_ID = "OsOsQ0GwNvUdLTV9Bd"  # the emulator's Dotgo bot, which the `emulator` provider uses
BOT_FILE = "from rcskit.app import Bot\nbot = Bot(dedup='memory', name='ports')\n"


def busy_line(port: int) -> re.Pattern[str]:
    return re.compile(rf"error: cannot listen on 127\.0\.0\.1:{port} \(.+\); try --port \d+")


@pytest.fixture
def busy(busy_port: int) -> int:
    return busy_port


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, int]]:
    """Stand-in for uvicorn: records (app, port) and closes the socket instead of serving."""
    calls: list[tuple[Any, int]] = []

    def serve_on(app: Any, sock: socket.socket, **options: Any) -> None:
        calls.append((app, sock.getsockname()[1]))
        sock.close()

    monkeypatch.setattr(commands, "serve_on", serve_on)
    return calls


@pytest.fixture
def emulator() -> Iterator[tuple[str, EmulatorState]]:
    """A real emulator on a free 127.0.0.1 port, in a thread: (base URL, its state)."""
    emu = create_app(default_config())
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(emu, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started or not thread.is_alive():
                break
            threading.Event().wait(0.01)
        assert server.started, "the emulator did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", emu.state.emulator
    finally:
        server.should_exit = True
        thread.join(10)


def emulator_toml(tmp_path: Path, base: str, state: EmulatorState) -> Path:
    path = tmp_path / "rcskit.toml"
    path.write_text(
        "[providers.emulator]\n"
        'kind = "dotgo"\n'
        f'bot_id = "{BOT_ID}"\n'
        f'client_id = "{state.bots[BOT_ID].client_id}"\n'
        'client_secret_env = "RCSKIT_TEST_EMULATOR_SECRET"\n'
        f'server_root = "{base}/dotgo/rcs"\n'
        f'auth_url = "{base}/dotgo/auth/oauth/token"\n'
    )
    return path


def test_run_on_a_busy_port_registers_nothing_with_the_emulator(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    busy: int,
    served: list[tuple[Any, int]],
    emulator: tuple[str, EmulatorState],
) -> None:
    base, state = emulator
    monkeypatch.setenv("RCSKIT_TEST_EMULATOR_SECRET", DEMO_CLIENT_SECRET)
    config = emulator_toml(tmp_path, base, state)
    (tmp_path / "ports_bot.py").write_text(BOT_FILE)
    target = f"{tmp_path / 'ports_bot.py'}:bot"
    assert state.bots[BOT_ID].webhook_url is None
    runner = CliRunner()

    failed = runner.invoke(
        rcskit_cli, ["run", target, "-p", "emulator", "--config", str(config), "--port", str(busy)]
    )
    assert failed.exit_code == 1, failed.output
    assert len(failed.stderr.splitlines()) == 1
    assert busy_line(busy).fullmatch(failed.stderr.strip()), failed.stderr
    assert "registered" not in failed.output and not served
    assert state.bots[BOT_ID].webhook_url is None  # the emulator was never told

    # the control: on a free port the same command registers its real address
    ok = runner.invoke(
        rcskit_cli, ["run", target, "-p", "emulator", "--config", str(config), "--port", "0"]
    )
    assert ok.exit_code == 0, ok.output
    port = served[0][1]
    assert state.bots[BOT_ID].webhook_url == f"http://127.0.0.1:{port}/webhook"
    assert f"serving 'ports' on http://127.0.0.1:{port}/webhook" in ok.stdout


def test_tail_on_a_busy_port_says_so_in_one_line(busy: int, served: list[tuple[Any, int]]) -> None:
    result = CliRunner().invoke(rcskit_cli, ["tail", "--port", str(busy)])
    assert result.exit_code == 1
    assert busy_line(busy).fullmatch(result.stderr.strip()), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "listening" not in result.stdout and not served


def suggested(message: str) -> int:
    found = re.search(r"try --port (\d+)$", message)
    assert found, message
    return int(found.group(1))


def test_the_suggested_port_is_free(busy: int, monkeypatch: pytest.MonkeyPatch) -> None:
    port = suggested(serving.cannot_listen("127.0.0.1", busy, OSError(98, "in use")))
    assert port != busy
    listen("127.0.0.1", port).close()
    gone = serving.cannot_listen("203.0.113.9", 8080, OSError(99, "Cannot assign"))
    assert gone.endswith("(Cannot assign); check --host")  # not this machine's address

    def only_any_port(host: str, port: int) -> socket.socket:
        if port:
            raise OSError(98, "in use")
        return listen(host, 0)

    monkeypatch.setattr(serving, "listen", only_any_port)  # the next ten ports are all taken
    assert suggested(serving.cannot_listen("127.0.0.1", 8080, OSError(98, "in use"))) > 0


@pytest.mark.parametrize("command", [["run", "bot.py:bot", "-p", "emulator"], ["tail"]])
@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_a_port_out_of_range_is_a_usage_error(
    command: list[str], port: str, served: list[tuple[Any, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(commands, "register_with_emulator", lambda *a: registered.append(a))
    result = CliRunner().invoke(rcskit_cli, [*command, "--port", port])
    assert result.exit_code == 2
    assert "Invalid value for '--port'" in result.output
    assert not served and not registered


def test_run_and_tail_default_to_a_port_that_is_not_the_emulators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: list[tuple[Any, int]]
) -> None:
    asked: list[tuple[str, int]] = []

    def free_instead(host: str, port: int) -> socket.socket:
        asked.append((host, port))
        return listen("127.0.0.1", 0)  # the default port itself may be taken on this machine

    monkeypatch.setattr(serving, "listen", free_instead)
    (tmp_path / "ports_bot.py").write_text(BOT_FILE)
    assert CliRunner().invoke(rcskit_cli, ["run", f"{tmp_path}/ports_bot.py:bot"]).exit_code == 0
    assert CliRunner().invoke(rcskit_cli, ["tail"]).exit_code == 0
    emulator_port = int(EMULATOR_URL.rsplit(":", 1)[1])
    assert asked == [("127.0.0.1", 8080), ("127.0.0.1", 8080)] and emulator_port != 8080
    assert len(served) == 2


async def test_tail_auto_labels_events_by_their_body_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bodies = ["dotgo_gsma/webhook_message.json", "dotgo_billing/refund_event.json"]
    for provider, labels in [("auto", ["gsma", "billing"]), ("dotgo", ["dotgo", "dotgo"])]:
        bot = tail_bot(provider)
        for name in bodies:
            response = await call(bot.asgi, "POST", "/webhook", (DATA / name).read_bytes())
            assert response.status == 200
        await bot.join()
        await bot.stop()
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[1] for line in lines] == labels, lines
