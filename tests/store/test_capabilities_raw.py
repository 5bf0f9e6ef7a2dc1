"""Capability answers go through the database drivers (one fixed statement), on both backends:
what they write reads back exactly, rows SQLAlchemy wrote earlier still read and compare, the
newest answer still wins, and no statement of theirs is compiled by SQLAlchemy per call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select

from rcskit.store import CapabilityResult, InvalidRecord, Store
from rcskit.store.capabilities import CHUNK
from rcskit.store.schema import capability_results

T0 = datetime(2025, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


def numbers(n: int, start: int = 0) -> list[str]:
    return [f"+3361{i:07d}" for i in range(start, start + n)]


async def test_answers_read_back_exactly(store: Store) -> None:
    paris = datetime(2025, 5, 1, 12, 0, 0, 1, tzinfo=datetime.now().astimezone().tzinfo)
    answers = [
        CapabilityResult("orange", "+33600000001", True, T0, features=("chat", "file")),
        CapabilityResult("orange", "+33600000002", False, T0, features=()),
        CapabilityResult("orange", "+33600000003", True, T0),
        CapabilityResult("orange", "+33600000004", False, paris),
        CapabilityResult("dotgo", "+33600000001", False, T0 + timedelta(seconds=1)),
    ]
    assert await store.capabilities.save_capabilities(iter(answers)) == 5
    got = await store.capabilities.get_capabilities(
        "orange", ["+33600000001", "+33600000002", "+33600000003", "+33600000004", "+3369"]
    )
    assert set(got) == {"+33600000001", "+33600000002", "+33600000003", "+33600000004"}
    assert got["+33600000001"] == answers[0]
    assert got["+33600000001"].features == ("chat", "file")
    assert got["+33600000002"].features == ()
    assert got["+33600000003"].features is None
    assert got["+33600000004"].checked_at == paris
    assert all(r.checked_at.tzinfo is not None for r in got.values())
    assert got["+33600000001"].checked_at.utcoffset() == timedelta(0)
    (dotgo,) = (await store.capabilities.get_capabilities("dotgo", ["+33600000001"])).values()
    assert (dotgo.rcs, dotgo.checked_at) == (False, T0 + timedelta(seconds=1))
    assert await store.capabilities.get_capabilities("orange", []) == {}


async def test_rows_sqlalchemy_wrote_still_read_and_compare(store: Store) -> None:
    """Rows written before (through SQLAlchemy Core, JSON ``null`` for no features) read the
    same, and a late answer still does not replace a newer stored one."""
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(capability_results),
            [
                {"provider": "orange", "number": "+33600000001", "rcs": True, "features": None,
                 "checked_at": T0},
                {"provider": "orange", "number": "+33600000002", "rcs": False,
                 "features": ["chat"], "checked_at": T0},
            ],
        )  # fmt: skip
    got = await store.capabilities.get_capabilities("orange", ["+33600000001", "+33600000002"])
    assert got["+33600000001"] == CapabilityResult("orange", "+33600000001", True, T0)
    assert got["+33600000002"].features == ("chat",)
    earlier = T0 - timedelta(microseconds=1)
    later = T0 + timedelta(microseconds=1)
    written = await store.capabilities.save_capabilities(
        [
            CapabilityResult("orange", "+33600000001", False, earlier),  # late: kept out
            CapabilityResult("orange", "+33600000002", True, later),  # newer: replaces
        ]
    )
    assert written == 1
    got = await store.capabilities.get_capabilities("orange", ["+33600000001", "+33600000002"])
    assert (got["+33600000001"].rcs, got["+33600000001"].checked_at) == (True, T0)
    assert (got["+33600000002"].rcs, got["+33600000002"].checked_at) == (True, later)
    assert got["+33600000002"].features is None
    # and SQLAlchemy reads what the driver wrote
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(capability_results).where(capability_results.c.number == "+33600000002")
            )
        ).one()
    assert (row.rcs, row.checked_at, row.features) == (True, later, None)


async def test_more_than_a_chunk_in_one_call(store: Store) -> None:
    asked = numbers(CHUNK + 7)
    yes = set(asked[::4])
    results = [CapabilityResult("smsbox", n, n in yes, T0) for n in asked]
    assert await store.capabilities.save_capabilities(results) == len(asked)
    got = await store.capabilities.get_capabilities("smsbox", [*asked, *asked[:10]])
    assert len(got) == len(asked)
    assert {n for n, r in got.items() if r.rcs} == yes
    # the same answers again at the same time: written again (equal times replace)
    assert await store.capabilities.save_capabilities(results[:100]) == 100


async def test_no_capability_statement_goes_through_sqlalchemy(store: Store) -> None:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", before)
    try:
        asked = numbers(1200)
        await store.capabilities.save_capabilities(
            CapabilityResult("orange", n, i % 2 == 0, T0) for i, n in enumerate(asked)
        )
        got = await store.capabilities.get_capabilities("orange", asked)
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", before)
    assert len(got) == 1200
    assert [s for s in seen if "capability_results" in s] == []


async def test_bulk_answers_write_the_rows_of_one_result_per_number(store: Store) -> None:
    """``save_bulk_answers`` (a campaign's bulk checks) writes exactly the rows
    ``save_capabilities`` writes for the same answers, with the same rules."""
    asked = numbers(CHUNK + 5)
    yes = set(asked[::3])
    results = [CapabilityResult("orange", n, n in yes, T0) for n in asked]
    assert await store.capabilities.save_capabilities(results) == len(asked)
    # repeats count once, as in save_capabilities
    assert await store.capabilities.save_bulk_answers("dotgo", [*asked, asked[0]], yes, T0) == (
        len(asked)
    )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(capability_results))).all()
    by_provider: dict[str, set[tuple[Any, ...]]] = {"orange": set(), "dotgo": set()}
    for row in rows:
        m = row._mapping
        by_provider[m["provider"]].add((m["number"], m["rcs"], m["features"], m["checked_at"]))
    assert by_provider["dotgo"] == by_provider["orange"]
    got = await store.capabilities.get_capabilities("dotgo", asked)
    assert got == {r.number: CapabilityResult("dotgo", r.number, r.rcs, T0) for r in results}
    # an older answer does not replace a newer one; a newer one does
    older, newer = T0 - timedelta(days=1), T0 + timedelta(days=1)
    first = asked[:2]
    assert await store.capabilities.save_bulk_answers("dotgo", first, set(), older) == 0
    assert await store.capabilities.save_bulk_answers("dotgo", first, {first[1]}, newer) == 2
    got = await store.capabilities.get_capabilities("dotgo", first)
    assert [(got[n].rcs, got[n].checked_at) for n in first] == [(False, newer), (True, newer)]


async def test_bulk_answers_refuse_what_save_capabilities_refuses(store: Store) -> None:
    with pytest.raises(InvalidRecord, match="number"):
        await store.capabilities.save_bulk_answers("dotgo", ["+336", "+3" * 20], set(), T0)
    with pytest.raises(InvalidRecord, match="provider"):
        await store.capabilities.save_bulk_answers("", ["+33612345678"], set(), T0)
    with pytest.raises(InvalidRecord, match="checked_at"):
        naive = T0.replace(tzinfo=None)
        await store.capabilities.save_bulk_answers("dotgo", ["+33612345678"], set(), naive)
    assert await store.capabilities.get_capabilities("dotgo", ["+336"]) == {}
