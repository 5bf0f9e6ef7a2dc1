"""The chaos run of issue 12 point 7, longer than the CI variant, on both kinds of platform.

``tests/chaos/driver.py`` does the work: three campaign workers on PostgreSQL + a private
Redis against the fake Dotgo platform (which enforces the rule and records arrivals), one
``kill -9``, one ``SIGSTOP`` past the lease, one Redis restart, faults injected. Two
platforms: one that de-duplicates and offers the status lookup, and one with neither (where
"unknown" may remain, bounded by the sends in flight at the kill). Each check is reported
as it held or not.

``python bench/run.py chaos`` (env ``RCSKIT_BENCH_CHAOS_RECIPIENTS``, default 12,000, and
``RCSKIT_BENCH_CHAOS_TPS``, default 200; PostgreSQL at ``RCSKIT_TEST_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chaos.driver import ChaosPlan, run_chaos  # noqa: E402


def run() -> str:
    """Markdown for RESULTS.md."""
    recipients = int(os.environ.get("RCSKIT_BENCH_CHAOS_RECIPIENTS", "12000"))
    tps = float(os.environ.get("RCSKIT_BENCH_CHAOS_TPS", "200"))
    admin = os.environ.get("RCSKIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    sections = [
        f"### Chaos: 3 workers, {recipients:,} recipients at {tps:g} TPS\n\n"
        "Faults: 0.2 % 429, 1 % 5xx, 0.5 % timeouts, 0.5 % accepted-but-answer-lost; kill -9"
        " of one worker at 20 % delivered, SIGSTOP of another past its lease at 35 %, Redis"
        " restarted at 55 %. Rate checks are counted on the platform's side.\n"
    ]
    for dedupe, lookup, label in (
        (True, True, "platform de-duplicates and has the status lookup"),
        (False, False, "platform has neither (unknown allowed, bounded by the kill)"),
    ):
        plan = ChaosPlan(
            recipients=recipients,
            tps=tps,
            dedupe=dedupe,
            status_lookup=lookup,
            deadline_s=recipients / tps * 2 + 60,
        )
        result = asyncio.run(run_chaos(plan, admin, log=print))
        rows = ["| check | holds | detail |", "|---|---|---|"]
        rows += [
            f"| {c.name} | {'yes' if c.holds else '**no**'} | {c.detail} |" for c in result.checks
        ]
        sections.append(
            f"**{label}** (workers: `{' '.join(result.command[2:5])} ...`)\n\n"
            + "\n".join(rows)
            + f"\n\nStore statuses: {result.statuses}\n"
        )
    return "\n".join(sections)


if __name__ == "__main__":
    print(run())
