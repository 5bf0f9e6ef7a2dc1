"""Issue 12 point 7, the CI variant (about a minute; ``-m "not chaos"`` deselects it):
three workers on PostgreSQL + a private Redis against the fake Dotgo platform at 100 TPS,
1,200 recipients, 0.2 % injected 429s, 1 % 5xx, 0.5 % timeouts and 0.5 % lost answers;
``kill -9`` one worker at 20 %, ``SIGSTOP`` another past its lease at 35 % (then
``SIGCONT``), Redis restarted at 55 %. The account opts in to client message ids (the fake
platform keeps them), so lost answers are looked up and none stays "unknown"; retries wait at
most 2 s (``campaign create --retry-max-delay 2``). Every check of :mod:`tests.chaos.driver`
must hold: every recipient terminal, no duplicates, zero unknown, the store agreeing with the
platform, the worst sliding second within 1.2 x TPS and every 30 s within 30 x TPS (counted
on the platform's side).

Two checks used to fail now and then on a loaded machine; what fixed them is tested one at a
time in ``tests/chaos/test_runner_guards.py``: a send task that died on a failed group write
left its recipients claimed, their leases renewed, until the deadline ("terminal"), and
requests whose attempt took long to record left late on their slots, bunched (the worst
second reached 122 to 149 against 120).

``bench/chaos.py`` runs longer variants (and the platform without de-duplication or
status lookup).
"""

from __future__ import annotations

import pytest

from tests.chaos.driver import ChaosPlan, run_chaos
from tests.chaos.redis_server import redis_server_or_skip


@pytest.mark.chaos
async def test_three_workers_kill_stop_and_redis_restart_keep_every_promise(
    postgres_url: str | None,
) -> None:
    if postgres_url is None:
        pytest.skip("PostgreSQL is unreachable (RCSKIT_REQUIRE_SERVICES=1 makes this a failure)")
    redis_server_or_skip()
    result = await run_chaos(ChaosPlan(), postgres_url)
    report = result.summary() + "\n" + "\n".join(result.events) + f"\nstatuses: {result.statuses}"
    assert not result.failed(), report
