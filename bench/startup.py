"""Start-up time of the ``rcskit`` command: ``python bench/run.py startup``.

Median wall time of N runs each of ``python -c pass`` (bare interpreter start-up),
``rcskit --version``, ``rcskit --help`` and, for scale, a Python that imports what the CLI
used to import eagerly (client, store, emulator, bot app, campaign engine). The runs are
interleaved (one of each, N times) so that all of them see the same load on a shared machine.
The target is ``--version`` and ``--help`` within 0.3 s of bare start-up.
"""

from __future__ import annotations

import os
import resource
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


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(runs: int = RUNS) -> str:
    """Measure and return the Markdown section for RESULTS.md."""
    env = {**os.environ, "COLUMNS": "100"}
    commands = _commands()
    for command in commands.values():  # warm the file cache and .pyc files first
        _timed(command, env)
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            w, c = _timed(command, env)
            wall[name].append(w)
            cpu[name].append(c)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    median_wall = {name: statistics.median(v) for name, v in wall.items()}
    median_cpu = {name: statistics.median(v) for name, v in cpu.items()}
    bare_wall, bare_cpu = median_wall["`python -c pass`"], median_cpu["`python -c pass`"]
    lines = [
        "## Start-up: `rcskit --version` and `--help` (`python bench/run.py startup`)",
        "",
        f"Medians of {runs} interleaved runs of each command (load average {load:.1f} on "
        f"{os.cpu_count()} cores when it ended). CPU time (user + system) is what the command "
        "costs; wall time also counts the wait for a core on a busy machine.",
        "",
        "| command | CPU s | over bare Python | wall s | over bare Python |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in commands:
        c, w = median_cpu[name], median_wall[name]
        lines.append(f"| {name} | {c:.3f} | {c - bare_cpu:+.3f} | {w:.3f} | {w - bare_wall:+.3f} |")
    slowest = max(median_cpu["`rcskit --version`"], median_cpu["`rcskit --help`"]) - bare_cpu
    slowest_wall = max(median_wall["`rcskit --version`"], median_wall["`rcskit --help`"])
    verdict = "within" if slowest <= TARGET_S else "NOT within"
    lines += [
        "",
        f"`--version` and `--help` are **{verdict}** {TARGET_S} s of bare start-up in CPU time "
        f"(slowest: {slowest:+.3f} s; wall {slowest_wall - bare_wall:+.3f} s).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
