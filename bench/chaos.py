"""The chaos run of issue 12 point 7, longer than the CI variant, on both kinds of platform.

``tests/chaos/driver.py`` does the work: three campaign workers on PostgreSQL + a private
Redis against the fake Dotgo platform (which enforces the rule and records arrivals), one
``kill -9``, one ``SIGSTOP`` past the lease, one Redis restart, faults injected. Three
variants: a platform that de-duplicates and offers the status lookup with the account opted in
to client message ids (``client_message_ids = true``: nothing may stay unknown); the same
platform without the opt-in (the registry's default for Dotgo: the platform assigns the ids,
so "unknown" may remain); and a platform with neither. Without a safety net "unknown" is
bounded by the sends in flight at the kill plus the injected ambiguous answers. Each check is
reported as it held or not.

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
        "Workers: `rcskit worker --concurrency 32 --lease 3 --redis URL` on one PostgreSQL"
        " database. Faults: 0.2 % 429, 1 % 5xx, 0.5 % timeouts, 0.5 % accepted-but-answer-lost;"
        " kill -9 of one worker at 20 % delivered, SIGSTOP of another past its lease at 35 %"
        " (SIGCONT 5 s later), Redis restarted at 55 %. Rate checks are counted on the"
        " platform's side, over every request it received. Time: from `campaign resume` to"
        " every recipient terminal (sending alone takes recipients / TPS; the kill, the stop,"
        " the restart and the retries add to it). Load: the machine's 1-minute load average at"
        " the end of the variant (2 cores, shared with other engineers' test runs).\n"
    ]
    summary = [
        "| variant | every check | worst 1 s (rule) | worst 30 s (rule) | unknown | time | load |",
        "|---|---|---|---|---|---|---|",
    ]
    details: list[str] = []
    for dedupe, lookup, opt_in, label in (
        (True, True, True, "platform de-duplicates and has the status lookup; account opted in"),
        (True, True, False, "same platform, account without the opt-in (the registry default)"),
        (False, False, False, "platform has neither (unknown allowed, bounded)"),
    ):
        plan = ChaosPlan(
            recipients=recipients,
            tps=tps,
            dedupe=dedupe,
            status_lookup=lookup,
            client_message_ids=opt_in,
            deadline_s=recipients / tps * 2 + 60,
        )
        result = asyncio.run(run_chaos(plan, admin, log=print))
        load = os.getloadavg()[0]
        r = result.report
        took = f"{result.finished_s:.0f} s" if result.finished_s is not None else "**deadline**"
        summary.append(
            f"| {label} | {'yes' if not result.failed() else '**no**'}"
            f" | {r['worst_1s']} ({r['limit_1s']}) | {r['worst_30s']:,} ({r['limit_30s']:,})"
            f" | {result.statuses.get('unknown', 0)} | {took} | {load:.1f} |"
        )
        rows = ["| check | holds | detail |", "|---|---|---|"]
        rows += [
            f"| {c.name} | {'yes' if c.holds else '**no**'} | {c.detail} |" for c in result.checks
        ]
        details.append(
            f"**{label}**\n\n" + "\n".join(rows) + f"\n\nStore statuses: {result.statuses}\n"
        )
    return "\n".join([*sections, "\n".join(summary) + "\n", *details])


if __name__ == "__main__":
    print(run())
