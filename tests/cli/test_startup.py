"""``rcskit --help`` and ``rcskit --version`` load no heavy library: the commands import the
client, the store and the servers only when they run (timings: ``python bench/run.py startup``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("aiohttp", "sqlalchemy", "starlette", "uvicorn", "matplotlib", "asyncio")

PROBE = """
import json, sys
sys.argv = ["rcskit", *json.loads(sys.argv[1])]
from rcskit.cli import main
try:
    main()
except SystemExit:
    pass
print("\\n@@" + json.dumps(sorted(m for m in sys.modules if "." not in m)))
"""


def loaded_by(*args: str) -> tuple[str, set[str]]:
    """What ``rcskit ARGS`` printed, and the top-level modules loaded when it finished."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    output, _, modules = done.stdout.rpartition("\n@@")
    return output, set(json.loads(modules))


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("campaign", "--help")])
def test_help_and_version_import_no_heavy_library(args: tuple[str, ...]) -> None:
    output, modules = loaded_by(*args)
    assert "rcskit" in output
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_the_probe_sees_a_heavy_import_when_a_command_runs() -> None:
    """The same probe does see them when a command needs them (the test above can fail)."""
    _, modules = loaded_by("messages", "--database", "no-such-dir/none.db")
    assert "sqlalchemy" in modules
