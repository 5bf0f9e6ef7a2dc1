"""Every Python and shell sample of README.md, run as pasted against emulators the test starts.

Each sample runs in a fresh folder that links ``examples/`` and ``tests/`` (the README's paths
are relative to a checkout), with the virtualenv's ``rcskit`` and ``python`` first on ``PATH``.
What the test changes, transparently, so that nothing reaches the network and parallel runs
never collide:

- ports: ``127.0.0.1:8000`` (the emulator) and ``9000`` (the campaign webhook) become free
  ports; ``rcskit emulator``, ``rcskit demo`` and ``rcskit run`` get ``--port`` with one;
- accounts: ``rcskit.toml`` is the README's own, each provider aimed at the emulator (its
  ``server_root``, ``auth_url`` and the emulator bot's client id), the secrets in the
  environment variables the README names; ``RCSKIT_EMULATOR_URL`` names the test's emulator;
  MaaP's secrets come from the emulator's banner;
- stores: a sample listing the default store's messages finds ``rcskit.db`` with one;
- placeholders: ``MESSAGE_ID`` and ``ID`` are the ids the sample's earlier commands printed
  (``sent ...``, ``campaign ... created``); the store sample's ``postgresql://user@host/db``
  is a SQLite file holding one message, whose id is its ``MESSAGE_ID``;
- ``rcskit campaign run`` gets ``--no-wait`` (inside the README's quiet hours it would wait
  for the morning, as README explains);
- commands that serve (``rcskit emulator``, ``demo``, ``run``, anything ending in ``&``) run
  in the background until the sample ends; the test waits for their port.

After some samples the test checks what they promise (the echo bot answers, the demo's phone
has its welcome card, the report is written). Samples that cannot run here are listed in
:data:`NOT_RUN` with the reason; a new sample that is neither run nor listed fails the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
DEMO_SECRET = "rcskit-emulator-demo-secret"
DOTGO_BOT = "OsOsQ0GwNvUdLTV9Bd"
PHONE = "+14251234567"
EMULATOR_CLIENTS = {"dotgo": "dotgo-demo-client", "dotgo_google": "dotgo-google-demo-client"}

NOT_RUN = {
    "pip install -e .            # the library and the `rcskit` command": (
        "installs rcskit: this test runs inside that install"
    ),
    "python -m pytest -q": "runs the test suite this test is part of",
    "python bench/run.py": "benchmarks run for minutes to hours (bench/ is their entry)",
    "export RCSKIT_DATABASE=postgresql://rcs@db/rcs": (
        "a deployment on hosts named db and redis, with a campaign created elsewhere; the worker "
        "pool is tested in tests/campaign/test_worker_pool.py"
    ),
    "pip install 'rcskit[metrics]'": (
        "a production set-up on fixed ports with long-running workers; `rcskit run --metrics-port "
        "--log-format json` is tested in tests/observability/test_cli_observability.py"
    ),
    "chatbot = rcs_chatbot.Chatbot(api_url, bot_id, token)": (
        "the code before a migration from rcs_chatbot (not installed); compiled only"
    ),
}
"""Samples not run, by the start of their first line, with the reason."""


def not_run(sample: Sample) -> str | None:
    """Why ``sample`` is not run, or ``None``."""
    return next((why for start, why in NOT_RUN.items() if sample.first.startswith(start)), None)


@dataclass(frozen=True, slots=True)
class Sample:
    """One fenced code block of README.md."""

    line: int
    lang: str
    text: str

    @property
    def first(self) -> str:
        """Its first non-empty line."""
        return next(line for line in self.text.splitlines() if line.strip())


def readme_samples(text: str) -> list[Sample]:
    """Every fenced block of ``text`` with its language and the line it starts on."""
    found = []
    for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, match.start()) + 1
        found.append(Sample(line, match.group(1), match.group(2)))
    return found


def _strip_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` after a space, outside quotes)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def shell_commands(text: str) -> list[str]:
    """The commands of a shell sample: continuations joined, comments dropped."""
    commands, current = [], ""
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            commands.append(" ".join(current.split()) if "'" not in current else current.strip())
        current = ""
    return commands


@dataclass(slots=True)
class Ports:
    """The free ports one sample uses instead of the README's."""

    emulator: int
    webhook: int
    bot: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def localize(command: str, ports: Ports, values: dict[str, str]) -> str:
    """``command`` with the test's ports, ids and database (see the module docstring)."""
    out = command.replace("127.0.0.1:8000", f"127.0.0.1:{ports.emulator}")
    out = out.replace("127.0.0.1:9000", f"127.0.0.1:{ports.webhook}")
    out = out.replace("--port 9000", f"--port {ports.webhook}")
    background = out.endswith("&")
    out = out.removesuffix("&").rstrip()
    if re.match(r"rcskit (emulator|demo)\b", out) and "--port" not in out:
        out += f" --port {ports.emulator}"
    if out.startswith("rcskit run ") and "--port" not in out:
        out += f" --port {ports.bot}"
    if out.startswith("rcskit campaign run ") and "--no-wait" not in out:
        out += " --no-wait"
    for name, value in values.items():
        out = re.sub(rf"\b{name}\b", value, out) if name.isupper() else out.replace(name, value)
    return out + (" &" if background else "")


def is_server(command: str) -> bool:
    """Whether a (localized) command keeps running: it serves, or the sample backgrounds it."""
    return command.endswith("&") or bool(re.match(r"rcskit (emulator|demo|run)\b", command))


def local_toml(readme_toml: str, port: int) -> str:
    """The README's ``rcskit.toml`` with every provider aimed at the emulator on ``port``."""
    base = f"http://127.0.0.1:{port}"
    out = []
    for block in re.split(r"(?m)^(?=\[providers\.)", readme_toml):
        kind = re.search(r'^kind = "(\w+)"', block, re.M)
        if kind is not None and kind.group(1) in EMULATOR_CLIENTS:
            client = EMULATOR_CLIENTS[kind.group(1)]
            block = re.sub(r'(?m)^client_id = ".*"', f'client_id = "{client}"', block)
            block = block.rstrip() + (
                f'\nserver_root = "{base}/dotgo/rcs"'
                f'\nauth_url = "{base}/dotgo/auth/oauth/token"\n\n'
            )
        out.append(block)
    return "".join(out)


# ------------------------------------------------------------------ running


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"server exited ({process.returncode}) before listening:\n{out}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return response.status, json.loads(raw) if raw.strip().startswith(b"{") else raw


def conversation(port: int, bot_id: str = DOTGO_BOT) -> list[dict[str, Any]]:
    number = urllib.parse.quote(PHONE)
    _, body = http(
        "GET", f"http://127.0.0.1:{port}/_emulator/phones/{number}/conversation?bot_id={bot_id}"
    )
    conversations = body["conversations"]
    return list(conversations[0]["messages"]) if conversations else []


def texts(port: int, bot_id: str = DOTGO_BOT) -> list[str]:
    found = []
    for message in conversation(port, bot_id):
        content = message.get("content") or {}
        if isinstance(content.get("textMessage"), str):
            found.append(content["textMessage"])
        elif isinstance(content.get("text"), str):
            found.append(content["text"])
    return found


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s (last: {result!r})")
        time.sleep(0.2)


@dataclass
class Workspace:
    """A folder and environment in which samples run, and the servers they started."""

    folder: Path
    env: dict[str, str]
    servers: list[subprocess.Popen[str]] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)

    def start(self, command: str, port: int) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            command.removesuffix("&").rstrip(),
            shell=True,
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.servers.append(process)
        wait_for_port(port, process)
        return process

    def run(self, command: str) -> str:
        """Run one command (``bash -e -o pipefail``); a ``NAME=...`` assignment is kept in the
        environment of the commands after it, as in one shell session."""
        assigned = re.match(r"([A-Za-z_]\w*)=", command)
        script = f'{command}\nprintf "%s" "${assigned.group(1)}"' if assigned else command
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        out = done.stdout + done.stderr
        assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{out}"
        if assigned:
            assert done.stdout, f"`{command}` set {assigned.group(1)} to nothing"
            self.env[assigned.group(1)] = done.stdout
        for name, pattern in (("MESSAGE_ID", r"^sent (\S+) "), ("ID", r"campaign (\S+) created")):
            found = re.search(pattern, done.stdout, re.M)
            if found:
                self.values[name] = found.group(1)
        return out

    def stop(self) -> None:
        for process in self.servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        for process in self.servers:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        self.servers.clear()


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    for name in ("examples", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCSKIT_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # servers' banners arrive as printed
    env["DOTGO_CLIENT_SECRET"] = DEMO_SECRET
    env["DOTGO_GOOGLE_CLIENT_SECRET"] = DEMO_SECRET
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    space = Workspace(tmp_path, env)
    try:
        yield space
    finally:
        space.stop()


def start_emulator(space: Workspace, port: int) -> None:
    """An emulator for a sample that does not start its own; MaaP's secrets from its banner."""
    process = space.start(f"rcskit emulator --port {port} --show-credentials", port)
    assert process.stdout is not None
    banner = ""
    while "webhook_token" not in banner.partition("maap-demo-bot")[2]:
        line = process.stdout.readline()
        assert line, f"the emulator's banner ended early:\n{banner}"
        banner += line
    maap = banner.split("maap-demo-bot", 1)[1]
    secret = re.search(r"client_secret: (\S+)", maap)
    token = re.search(r"webhook_token: (\S+)", maap)
    assert secret and token
    space.env["MAAP_SECRET"], space.env["MAAP_WEBHOOK_TOKEN"] = secret.group(1), token.group(1)


# ------------------------------------------------------------------ what samples promise


def check_demo(space: Workspace, ports: Ports) -> None:
    status, page = http("GET", f"http://127.0.0.1:{ports.emulator}/phones/{PHONE}")
    assert status == 200 and b"Dotgo demo bot" in page
    eventually(lambda: conversation(ports.emulator))  # the welcome card waits on the phone


def check_echo_bot(space: Workspace, ports: Ports) -> None:
    number = urllib.parse.quote(PHONE)
    status, _ = http(
        "POST",
        f"http://127.0.0.1:{ports.emulator}/_emulator/phones/{number}/actions",
        {"bot_id": DOTGO_BOT, "type": "text", "text": "hi from the README"},
    )
    assert status == 201
    eventually(lambda: "You wrote: hi from the README" in texts(ports.emulator))


def check_emulator(space: Workspace, ports: Ports) -> None:
    status, page = http("GET", f"http://127.0.0.1:{ports.emulator}/")
    assert status == 200 and PHONE.encode() in page


def check_campaign(space: Workspace, ports: Ports) -> None:
    campaign = space.values["ID"]
    report = (space.folder / f"{campaign}-report.html").read_text(encoding="utf-8")
    assert 'data-chart="funnel"' in report and (space.folder / f"{campaign}-report.png").exists()


def check_curl(space: Workspace, ports: Ports, output: str) -> None:
    body = json.loads(output)
    assert body["RCSMessage"]["status"] == "pending" and body["RCSMessage"]["msgId"], output


CHECKS: dict[str, Callable[[Workspace, Ports], None]] = {
    "rcskit demo": check_demo,
    "rcskit emulator                                             # terminal 1: the local "
    "platform": check_echo_bot,
    "rcskit emulator                       # http://127.0.0.1:8000; --show-credentials prints "
    "the demo secrets": check_emulator,
    "rcskit emulator &": check_campaign,
}
"""What the test checks after a sample, by its first line."""

MAAP_HARNESS = """

# --- appended by tests/test_readme.py: one user message through the bot, as a webhook would
import asyncio as _asyncio
from rcskit.events import UserMessage as _UserMessage
from rcskit.message import Contact as _Contact, Text as _Text


async def _drive() -> None:
    await bot.start()
    try:
        await bot.dispatch(_UserMessage(provider="maap", contact=_Contact("+14251234567"),
                                        message_id="readme-1", content=_Text("hello maap")))
    finally:
        await bot.stop()
        await bot.client.aclose()


_asyncio.run(_drive())
"""


def record_store_message(path: Path, status: str = "delivered") -> str:
    """A SQLite store at ``path`` holding one message to :data:`PHONE` in ``status``; its id."""
    from rcskit.message import Contact, Message
    from rcskit.store import Store

    async def go() -> str:
        store = await Store.open(str(path), upgrade=True)
        try:
            await store.messages.record_outbound(
                "readme-1", "dotgo", Contact(PHONE), Message("Hello")
            )
            await store.messages.begin_attempt("readme-1")
            await store.messages.mark_sent("readme-1", "readme-provider-id")
            await store.messages.apply_status("dotgo", "readme-provider-id", status)
            return "readme-1"
        finally:
            await store.close()

    return asyncio.run(go())


# ------------------------------------------------------------------ the tests

SAMPLES = readme_samples(README.read_text(encoding="utf-8"))
RUNNABLE = [s for s in SAMPLES if s.lang in ("python", "bash") and not_run(s) is None]


def test_the_readme_has_samples_and_every_one_is_run_or_explained() -> None:
    code = [s for s in SAMPLES if s.lang in ("python", "bash")]
    assert len(code) >= 10
    listed = {start for start in NOT_RUN for s in code if s.first.startswith(start)}
    assert listed == set(NOT_RUN), (
        f"NOT_RUN names samples README no longer has: {set(NOT_RUN) - listed}"
    )
    for sample in code:
        if sample.lang == "python":
            compile(sample.text, f"README.md:{sample.line}", "exec")
    assert "DESIGN.md" not in README.read_text(encoding="utf-8")


def test_localize_keeps_the_command_and_changes_only_ports_ids_and_waits() -> None:
    ports = Ports(1111, 2222, 3333)
    values = {"ID": "c-42", "MESSAGE_ID": "m-7"}
    assert localize("rcskit emulator &", ports, values) == "rcskit emulator --port 1111 &"
    assert localize("rcskit run a.py:bot --provider emulator", ports, values).endswith(
        "--port 3333"
    )
    assert localize("rcskit campaign run ID", ports, values) == "rcskit campaign run c-42 --no-wait"
    assert localize("rcskit status --provider x MESSAGE_ID", ports, values).endswith("m-7")
    assert localize("curl http://127.0.0.1:8000/x -d '{\"url\": \"http://127.0.0.1:9000/w\"}'",
                    ports, values) == (
        "curl http://127.0.0.1:1111/x -d '{\"url\": \"http://127.0.0.1:2222/w\"}'"
    )  # fmt: skip
    assert shell_commands("a \\\n  --b 1   # note\n# only a comment\nc 'x # y'\n") == [
        "a --b 1",
        "c 'x # y'",
    ]


@pytest.mark.parametrize("sample", RUNNABLE, ids=[f"line{s.line}" for s in RUNNABLE])
def test_readme_sample_runs_as_pasted(sample: Sample, workspace: Workspace) -> None:
    ports = Ports(free_port(), free_port(), free_port())
    toml = next(s.text for s in SAMPLES if s.lang == "toml" and "[providers." in s.text)
    (workspace.folder / "rcskit.toml").write_text(local_toml(toml, ports.emulator))
    workspace.env["RCSKIT_EMULATOR_URL"] = f"http://127.0.0.1:{ports.emulator}"
    starts_emulator = sample.lang == "bash" and re.search(
        r"(?m)^rcskit (emulator|demo)\b", sample.text
    )
    if not starts_emulator:
        start_emulator(workspace, ports.emulator)

    if sample.lang == "python":
        text = localize(sample.text, ports, {})
        if "# echo_bot.py" in sample.first:
            pytest.skip(
                "served by the README's `rcskit run echo_bot.py:bot` sample (checked there)"
            )
        if "MaapConfig" in text:
            text += MAAP_HARNESS
        script = workspace.folder / f"readme_{sample.line}.py"
        script.write_text(text, encoding="utf-8")
        out = workspace.run(f"python {shlex.quote(script.name)}")
        if "MaapConfig" in text:
            eventually(lambda: "You wrote: hello maap" in texts(ports.emulator, "maap-demo-bot"))
        return

    if re.search(r"(?m)^rcskit messages (?!.*--database)", sample.text):
        record_store_message(workspace.folder / "rcskit.db", "failed")  # the default store
    if "postgresql://user@host/db" in sample.text:
        workspace.values["MESSAGE_ID"] = record_store_message(workspace.folder / "readme.db")
        workspace.values["postgresql://user@host/db"] = "readme.db"
    echo_bot = next(s for s in SAMPLES if s.first == "# echo_bot.py")
    (workspace.folder / "echo_bot.py").write_text(echo_bot.text, encoding="utf-8")
    out = ""
    for command in shell_commands(sample.text):
        local = localize(command, ports, workspace.values)
        if is_server(local):
            port = int(m.group(1)) if (m := re.search(r"--port (\d+)", local)) else ports.emulator
            workspace.start(local, port)
        else:
            out = workspace.run(local)  # the last command's output
    check = CHECKS.get(sample.first)
    if check is not None:
        check(workspace, ports)
    if sample.first.startswith("TOKEN=$(curl"):
        check_curl(workspace, ports, out)
