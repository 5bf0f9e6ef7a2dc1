"""The chaos driver's own parts: the checks it makes and the worker command it builds."""

from __future__ import annotations

from typing import Any

from tests.chaos.driver import ChaosPlan, checks_of, start_command, worker_command


def report(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "per_recipient": {"+1": 1, "+2": 1},
        "duplicates": 0,
        "ignored": 0,
        "worst_1s": 100,
        "limit_1s": 120,
        "worst_30s": 2000,
        "limit_30s": 3000,
    }
    return base | kw


def by_name(plan: ChaosPlan, statuses: dict[str, int], r: dict[str, Any], inflight: int = 0):  # type: ignore[no-untyped-def]
    return {c.name: c.holds for c in checks_of(plan, statuses, r, inflight)}


def test_a_clean_run_passes_every_check() -> None:
    plan = ChaosPlan(recipients=2)
    assert all(by_name(plan, {"sent": 2}, report()).values())


def test_each_check_fails_on_what_it_guards() -> None:
    plan = ChaosPlan(recipients=2)
    assert not by_name(plan, {"sent": 1, "queued": 1}, report())["terminal"]
    assert not by_name(plan, {"sent": 1}, report())["terminal"]  # a recipient is missing
    twice = report(per_recipient={"+1": 2, "+2": 1}, duplicates=1)
    assert not by_name(plan, {"sent": 2}, twice)["no_duplicates"]
    assert not by_name(plan, {"sent": 1, "unknown": 1}, report())["unknown_bounded"]
    assert not by_name(plan, {"sent": 2}, report(per_recipient={"+1": 1}))["delivered"]
    assert not by_name(plan, {"sent": 2}, report(worst_1s=121))["second"]
    assert not by_name(plan, {"sent": 2}, report(worst_30s=3001))["window30"]


def test_unknown_is_bounded_by_the_kill_where_the_platform_has_no_safety_net() -> None:
    plan = ChaosPlan(recipients=40, dedupe=False, status_lookup=False)
    statuses = {"sent": 8, "unknown": 32}
    assert by_name(plan, statuses, report(), inflight=32)["unknown_bounded"]
    assert not by_name(plan, {"sent": 7, "unknown": 33}, report(), inflight=32)["unknown_bounded"]
    assert "no_duplicates" not in by_name(plan, statuses, report(), inflight=32)


def test_workers_serve_the_database_with_the_plans_options_and_redis() -> None:
    plan = ChaosPlan(concurrency=7, lease=2.5)
    cmd = worker_command("postgresql://h/db", "redis://127.0.0.1:1/0", plan)
    assert cmd[1:4] == ["-m", "rcskit.cli", "worker"]
    assert cmd[cmd.index("--database") + 1] == "postgresql://h/db"
    assert cmd[cmd.index("--concurrency") + 1] == "7"
    assert cmd[cmd.index("--lease") + 1] == "2.5"
    assert cmd[cmd.index("--redis") + 1] == "redis://127.0.0.1:1/0"


def test_the_campaign_is_started_for_the_workers_as_a_user_would() -> None:
    assert start_command("db")[-4:] == ["resume", "chaos", "--database", "db"]


def test_unknown_bound_adds_the_injected_ambiguous_answers() -> None:
    plan = ChaosPlan(recipients=40, dedupe=False, status_lookup=False)
    faults = report(faults={"timeout": 2, "lost": 3, "5xx": 9})
    assert by_name(plan, {"sent": 25, "unknown": 15}, faults, inflight=10)["unknown_bounded"]
    assert not by_name(plan, {"sent": 24, "unknown": 16}, faults, inflight=10)["unknown_bounded"]


def test_without_the_opt_in_the_platforms_safety_net_does_not_apply() -> None:
    plan = ChaosPlan(recipients=40, client_message_ids=False)
    checks = by_name(plan, {"sent": 39, "unknown": 1}, report(faults={"lost": 1}))
    assert checks["unknown_bounded"]
    assert "no_duplicates" not in checks
    opted_in = by_name(ChaosPlan(recipients=40), {"sent": 39, "unknown": 1}, report())
    assert not opted_in["unknown_bounded"]
