"""Help pages a user can trust, usage errors on one line, consistent exit statuses."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer._click.core import Command, Context
from typer.core import TyperGroup as Group
from typer.main import get_command
from typer.testing import CliRunner

from rcskit.cli import app
from rcskit.cli.options import DEFAULT_DATABASE
from rcskit.cli.output import progress_note
from rcskit.limits import PROFILES
from rcskit.store import DEFAULT_DATABASE as STORE_DEFAULT_DATABASE

runner = CliRunner(env={"COLUMNS": "120"})
TYPE_NOISE = re.compile(r"<(bool|str|int|float|path|list\[[^\]]*\]|int range|float range)>|\{\w+\}")


def commands(group: Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command of the tree, with its path of names."""
    ctx = Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name), command
        if isinstance(command, Group):
            yield from commands(command, (*path, name))


ROOT = get_command(app)
assert isinstance(ROOT, Group)
EVERY = list(commands(ROOT))


def test_the_tree_has_every_command_group() -> None:
    names = {" ".join(path) for path, _ in EVERY}
    for expected in ("validate", "send", "run", "messages", "emulator", "demo", "campaign create"):
        assert expected in names


@pytest.mark.parametrize("path", [p for p, _ in EVERY], ids=" ".join)
def test_help_shows_no_python_types(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert not TYPE_NOISE.search(result.output), TYPE_NOISE.findall(result.output)


def test_flags_are_shown_as_flags() -> None:
    result = runner.invoke(app, ["demo", "--help"])
    line = next(x for x in result.output.splitlines() if "--no-browser" in x)
    assert re.search(r"--no-browser\s+Do not open", line), line
    port = next(x for x in result.output.splitlines() if "--port" in x)
    assert "PORT" in port


@pytest.mark.parametrize("path", [p for p, _ in EVERY], ids=" ".join)
def test_every_option_and_argument_has_help(path: tuple[str, ...]) -> None:
    command = dict(EVERY)[path]
    missing = [p.name for p in command.params if not getattr(p, "help", None)]
    assert missing == []


def test_validate_help_lists_every_limits_profile() -> None:
    result = runner.invoke(app, ["validate", "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0
    for name in PROFILES:
        assert name in result.output
    assert "dotgo_google" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["run", "bot.py", "--port", "abc"],
        ["tail", "--port", "99999"],
        ["campaign", "status"],
        ["send", "--bogus"],
        ["nope"],
    ],
    ids=" ".join,
)
def test_a_usage_error_is_one_line_with_exit_status_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "--help" in lines[0]


def test_port_abc_names_the_option_and_the_value_in_a_real_shell() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rcskit.cli", "run", "bot.py", "--port", "abc"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: Invalid value for '--port'")


def test_a_failed_check_exits_1_and_usage_exits_2(tmp_path: Path) -> None:
    body = tmp_path / "m.json"
    body.write_text('{"RCSMessage": {"textMessage": ""}}')
    assert runner.invoke(app, ["validate", str(body)]).exit_code == 1
    assert runner.invoke(app, ["validate", "--format", "xml", str(body)]).exit_code == 2
    missing = runner.invoke(app, ["campaign", "status", "c1", "--database", "none.db"])
    assert missing.exit_code == 1 and missing.output.startswith("error: no database")


def test_progress_notes_are_one_line_each_off_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress_note("imported 1,000 lines")
    progress_note("imported 2,000 lines")
    assert capsys.readouterr().err == "imported 1,000 lines\nimported 2,000 lines\n"


def test_the_cli_shows_the_stores_default_database() -> None:
    assert DEFAULT_DATABASE == STORE_DEFAULT_DATABASE
