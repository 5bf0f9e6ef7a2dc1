"""Start-up time of the ``rcskit`` command: ``python bench/run.py startup``.

Median wall time of N runs each of ``python -c pass`` (bare interpreter start-up),
``rcskit --version``, ``rcskit --help`` and, for scale, a Python that imports what the CLI
used to import eagerly (client, store, emulator, bot app, campaign engine). The runs are
interleaved (one of each, N times) so that all of them see the same load on a shared machine.
The target is ``--version`` and ``--help`` within 0.3 s of bare start-up.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 21
TARGET_S = 0.3


def _rcskit() -> list[str]:
    """The installed ``rcskit`` console script, or the same entry point through ``-c``."""
    script = Path(sys.executable).parent / "rcskit"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from rcskit.cli import main; main()"]


EAGER = (
    "import rcskit.client, rcskit.store, rcskit.emulator, rcskit.app, rcskit.campaign, "
    "rcskit.campaign.report, rcskit.cli"
)


def _commands() -> dict[str, list[str]]:
    rcskit = _rcskit()
    return {
        "`python -c pass`": [sys.executable, "-c", "pass"],
        "`rcskit --version`": [*rcskit, "--version"],
        "`rcskit --help`": [*rcskit, "--help"],
        "import the library eagerly (what the CLI did)": [sys.executable, "-c", EAGER],
    }


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    return time.perf_counter() - started


def run(runs: int = RUNS) -> str:
    """Measure and return the Markdown section for RESULTS.md."""
    env = {**os.environ, "COLUMNS": "100"}
    commands = _commands()
    for command in commands.values():  # warm the file cache and .pyc files first
        _wall(command, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            times[name].append(_wall(command, env))
    bare = statistics.median(times["`python -c pass`"])
    lines = [
        "## Start-up: `rcskit --version` and `--help` (`python bench/run.py startup`)",
        "",
        f"Median wall time of {runs} interleaved runs of each command.",
        "",
        "| command | median s | over bare Python, s |",
        "|---|---:|---:|",
    ]
    for name, samples in times.items():
        median = statistics.median(samples)
        lines.append(f"| {name} | {median:.3f} | {median - bare:+.3f} |")
    worst = max(
        statistics.median(times["`rcskit --version`"]), statistics.median(times["`rcskit --help`"])
    )
    verdict = "within" if worst - bare <= TARGET_S else "NOT within"
    lines += [
        "",
        f"`--version` and `--help` are **{verdict}** {TARGET_S} s of bare start-up "
        f"(slowest: {worst - bare:+.3f} s).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
