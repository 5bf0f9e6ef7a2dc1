"""The plugin as a user gets it: pytest run on a project outside this repository, finding the
``rcskit_emulator`` fixture through the installed package's ``pytest11`` entry point alone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = """
from rcskit.app import Bot
from rcskit.message import Message


async def test_hello(rcskit_emulator):
    async with rcskit_emulator.client("dotgo") as client:
        await client.send("+14251234567", Message("hi"))
    assert rcskit_emulator.phone("+14251234567").messages[-1].text == "hi"


async def test_echo_bot(rcskit_emulator):
    client = rcskit_emulator.client("dotgo")
    bot = Bot(client, provider="dotgo", dedup=None)

    @bot.on_message()
    async def echo(event, reply):
        await reply(f"You wrote: {event.text}")

    rcskit_emulator.set_webhook("dotgo", bot)
    await rcskit_emulator.reply("+14251234567", "hello")
    assert rcskit_emulator.phone("+14251234567").messages[-1].text == "You wrote: hello"
    await bot.stop()
    await client.aclose()


def test_a_synchronous_test_gets_it_too(rcskit_emulator):
    assert rcskit_emulator.url.startswith("http://127.0.0.1:")
    assert rcskit_emulator.phone("+14251234567").messages == ()
"""


def test_pytest_finds_the_fixture_in_a_project_of_its_own(tmp_path: Path) -> None:
    project = tmp_path / "my_bot"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.pytest.ini_options]
            asyncio_mode = "auto"
            """
        )
    )
    (project / "tests" / "test_bot.py").write_text(USER_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "PYTHONPATH"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    # the fixture came from the installed plugin, not from this repository's conftest files
    assert str(Path(__file__).parents[1]) not in done.stdout
