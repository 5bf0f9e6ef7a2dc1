"""Issue 12 point 7, the CI variant (about a minute; ``-m "not chaos"`` deselects it):
three workers on PostgreSQL + a private Redis against the fake Dotgo platform at 100 TPS,
1,200 recipients, 0.2 % injected 429s, 1 % 5xx, 0.5 % timeouts and 0.5 % lost answers;
``kill -9`` one worker at 20 %, ``SIGSTOP`` another past its lease at 35 % (then
``SIGCONT``), Redis restarted at 55 %. The account opts in to client message ids (the fake
platform keeps them), so lost answers are looked up and none stays "unknown"; retries wait at
most 2 s (``campaign create --retry-max-delay 2``). Every check of :mod:`tests.chaos.driver`
must hold, except the known gaps listed in ``KNOWN_GAPS``, which make it an expected failure
(with what was seen) instead of a pass.
``bench/chaos.py`` runs longer variants (and the platform without de-duplication or
status lookup).
"""

from __future__ import annotations

import pytest

from tests.chaos.driver import ChaosPlan, run_chaos
from tests.chaos.redis_server import redis_server_or_skip

KNOWN_GAPS = {
    "terminal": "a live worker can hold recipients claimed around the Redis restart without"
    " sending them (its leases renewed) until the run's deadline: seen in 2 of 6 runs on a"
    " loaded machine",
    "second": "one run of 6 on a loaded machine counted 122 requests in the worst sliding second"
    " (rule 120)",
}
"""Checks that did not always hold on 2026-12-06, with what was seen. Everything else (no
duplicates, zero unknown with the lookup, the store agreeing with the platform, the 30 s
windows) must hold: the test fails when it does not."""


@pytest.mark.chaos
async def test_three_workers_kill_stop_and_redis_restart_keep_every_promise(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("PostgreSQL is unreachable (RCSKIT_REQUIRE_SERVICES=1 makes this a failure)")
    redis_server_or_skip()
    result = await run_chaos(ChaosPlan(), postgres_url)
    report = result.summary() + "\n" + "\n".join(result.events) + f"\nstatuses: {result.statuses}"
    broken = {c.name for c in result.failed()}
    assert not broken - set(KNOWN_GAPS), report
    if broken:
        pytest.xfail("; ".join(KNOWN_GAPS[name] for name in sorted(broken)) + "\n" + report)
