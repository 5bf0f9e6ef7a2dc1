"""Issue 12 point 7, the CI variant (about a minute; ``-m "not chaos"`` deselects it):
three workers on PostgreSQL + a private Redis against the fake Dotgo platform at 100 TPS,
1,200 recipients, 0.2 % injected 429s, 1 % 5xx, 0.5 % timeouts and 0.5 % lost answers;
``kill -9`` one worker at 20 %, ``SIGSTOP`` another past its lease at 35 % (then
``SIGCONT``), Redis restarted at 55 %. Every check of :mod:`tests.chaos.driver` must hold.
``bench/chaos.py`` runs longer variants (and the platform without de-duplication or
status lookup).
"""

from __future__ import annotations

import pytest

from tests.chaos.driver import ChaosPlan, run_chaos
from tests.chaos.redis_server import redis_server_or_skip


@pytest.mark.chaos
@pytest.mark.xfail(
    strict=True,
    reason="on main at 06:55 UTC (engine merged) the rate windows, no-duplicate and delivered"
    " checks hold, two do not: recipients whose send failed (5xx) wait minutes to retry, so"
    " not every recipient is terminal within the run, and lost answers on Dotgo's GSMA API"
    " stay 'unknown' (12 of 1,200) although the platform offers the status lookup",
)
async def test_three_workers_kill_stop_and_redis_restart_keep_every_promise(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("PostgreSQL is unreachable (RCSKIT_REQUIRE_SERVICES=1 makes this a failure)")
    redis_server_or_skip()
    result = await run_chaos(ChaosPlan(), postgres_url)
    assert not result.failed(), (
        result.summary() + "\n" + "\n".join(result.events) + f"\nstatuses: {result.statuses}"
    )
