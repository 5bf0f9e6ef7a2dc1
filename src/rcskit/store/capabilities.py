"""Capability answers: the latest one per (provider, number), with the time it was given.

The re-check policy and bulk planning live in :mod:`rcskit.campaign.capcache`, on top of this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select

from .core import StoreCore, check_aware, check_text, chunks, unique
from .records import CapabilityResult, InvalidRecord
from .schema import capability_results

__all__ = ["CapabilityRepository"]

_K = capability_results

CHUNK = 500
"""Numbers per statement."""


def _capability(row: Row[Any]) -> CapabilityResult:
    m = row._mapping
    features = m["features"]
    return CapabilityResult(
        provider=m["provider"],
        number=m["number"],
        rcs=bool(m["rcs"]),
        checked_at=m["checked_at"],
        features=None if features is None else tuple(features),
    )


class CapabilityRepository(StoreCore):
    """Store and read capability answers."""

    async def save_capabilities(self, results: Iterable[CapabilityResult]) -> int:
        """Store answers (any iterable, in chunks); return how many rows were written.

        Per (provider, number) the newest answer wins: an answer older than the stored one
        (a late bulk result) does not replace it.
        """
        written = 0
        for batch in chunks(results, CHUNK):
            newest: dict[tuple[str, str], CapabilityResult] = {}
            for r in batch:
                if not isinstance(r, CapabilityResult):
                    raise InvalidRecord("results", type(r).__name__, "CapabilityResult items")
                check_text("provider", r.provider, 32)
                check_text("number", r.number, 32)
                check_aware("checked_at", r.checked_at)
                key = (r.provider, r.number)
                if key not in newest or newest[key].checked_at <= r.checked_at:
                    newest[key] = r
            rows = [
                {
                    "provider": r.provider,
                    "number": r.number,
                    "rcs": bool(r.rcs),
                    "features": None if r.features is None else list(r.features),
                    "checked_at": r.checked_at,
                }
                for r in newest.values()
            ]
            statement = self._insert(_K).values(rows)
            statement = statement.on_conflict_do_update(
                index_elements=[_K.c.provider, _K.c.number],
                set_={
                    "rcs": statement.excluded.rcs,
                    "features": statement.excluded.features,
                    "checked_at": statement.excluded.checked_at,
                },
                where=_K.c.checked_at <= statement.excluded.checked_at,
            )
            async with self._write() as conn:
                written += int((await conn.execute(statement)).rowcount)
        return written

    async def get_capabilities(
        self, provider: str, numbers: Iterable[str]
    ) -> dict[str, CapabilityResult]:
        """The stored answers for these numbers through ``provider`` (numbers never checked are
        absent)."""
        found: dict[str, CapabilityResult] = {}
        async with self._read() as conn:
            for batch in chunks(unique(list(numbers)), CHUNK):
                rows = (
                    await conn.execute(
                        select(_K).where(_K.c.provider == provider, _K.c.number.in_(batch))
                    )
                ).all()
                for row in rows:
                    result = _capability(row)
                    found[result.number] = result
        return found
