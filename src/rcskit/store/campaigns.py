"""Campaigns (``store.campaigns``) and their recipients, with the claims workers take on recipients.

A runner imports the CSV with :meth:`CampaignRepository.add_recipients` (streamed, in chunks;
numbers already in the campaign are skipped: the unique ``(campaign_id, msisdn)`` key removes
duplicates, and re-importing after a crash adds nothing twice), then loops::

    campaigns = store.campaigns
    batch = await campaigns.claim_batch(campaign_id, worker_id, n=100, lease_s=60)
    ... handle each recipient, renew() while working ...
    await campaigns.release(campaign_id, worker_id, [r.line_number], status=RecipientStatus.SENT)

Several workers (processes, hosts) can share a campaign: a recipient is handed to one worker at
a time, and comes back to the pool when its lease expires (see :mod:`rcskit.store.claims`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.exc import IntegrityError

from ..message import Message
from .claims import claim_rows, held, release_rows, renew_rows
from .core import StoreCore, check_aware, check_text, chunks, require_positive
from .records import (
    Campaign,
    CampaignStatus,
    InvalidRecord,
    NewRecipient,
    Recipient,
    RecipientStatus,
    StoreConflict,
    UnknownRecord,
)
from .schema import campaign_recipients, campaigns

__all__ = ["AddedRecipients", "CampaignRepository"]

_C = campaigns
_R = campaign_recipients

IMPORT_CHUNK = 1000
"""Recipients per INSERT statement (well under SQLite's and asyncpg's parameter limits)."""


@dataclass(frozen=True, slots=True)
class AddedRecipients:
    """What :meth:`CampaignRepository.add_recipients` did: rows inserted, and rows skipped
    because their line or their number was already in the campaign."""

    inserted: int
    skipped: int


def _campaign(row: Row[Any]) -> Campaign:
    m = row._mapping
    return Campaign(
        id=m["id"],
        name=m["name"],
        provider=m["provider"],
        status=CampaignStatus(m["status"]),
        message_json=m["message"],
        template=m["template"],
        tps=m["tps"],
        starts_at=m["starts_at"],
        quiet_hours=m["quiet_hours"],
        options=dict(m["options"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _recipient(row: Row[Any]) -> Recipient:
    m = row._mapping
    return Recipient(
        campaign_id=m["campaign_id"],
        line_number=m["line_number"],
        msisdn=m["msisdn"],
        params=dict(m["params"]),
        status=RecipientStatus(m["status"]),
        error=m["error"],
        due_at=m["due_at"],
        claim_owner=m["claim_owner"],
        lease_expires_at=m["lease_expires_at"],
        updated_at=m["updated_at"],
        fence=int(m["fence"]),
    )


def recipient_row(campaign_id: str, r: NewRecipient, now: datetime) -> dict[str, Any]:
    """The ``campaign_recipients`` row of a new recipient (an insert's values)."""
    return {
        "campaign_id": campaign_id,
        "line_number": r.line_number,
        "msisdn": r.msisdn,
        "params": dict(r.params),
        "status": RecipientStatus(r.status).value,
        "error": r.error,
        "updated_at": now,
    }


def _statuses(statuses: Iterable[RecipientStatus | str]) -> list[str]:
    out = []
    for status in statuses:
        try:
            out.append(RecipientStatus(status).value)
        except ValueError:
            known = ", ".join(s.value for s in RecipientStatus)
            raise InvalidRecord("status", status, f"one of {known}") from None
    return out


class CampaignRepository(StoreCore):
    """Campaigns, recipients, and recipient claims for campaign workers."""

    async def create_campaign(
        self,
        name: str,
        provider: str,
        *,
        id: str | None = None,
        message: Message | None = None,
        template: str | None = None,
        tps: float | None = None,
        starts_at: datetime | None = None,
        quiet_hours: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> Campaign:
        """Create a campaign that sends ``message`` or the provider template ``template``
        (exactly one) through ``provider``. ``id`` defaults to a random one; an id already in
        use raises :class:`StoreConflict`."""
        check_text("name", name, 200)
        check_text("provider", provider, 32)
        id = id if id is not None else uuid.uuid4().hex[:12]
        check_text("id", id, 64)
        if (message is None) == (template is None):
            raise InvalidRecord("message/template", None, "give exactly one of them")
        if template is not None:
            check_text("template", template, 200)
        if tps is not None:
            require_positive("tps", tps)
        check_aware("starts_at", starts_at)
        if quiet_hours is not None:
            check_text("quiet_hours", quiet_hours, 32)
        now = self._now()
        values = {
            "id": id,
            "name": name,
            "provider": provider,
            "status": CampaignStatus.CREATED.value,
            "message": None if message is None else message.model_dump_json(),
            "template": template,
            "tps": tps,
            "starts_at": starts_at,
            "quiet_hours": quiet_hours,
            "options": dict(options or {}),
            "created_at": now,
            "updated_at": now,
        }
        try:
            async with self._write() as conn:
                row = (await conn.execute(_C.insert().values(**values).returning(*_C.c))).one()
        except IntegrityError:
            raise StoreConflict(f"a campaign with id {id!r} already exists") from None
        return _campaign(row)

    async def get_campaign(self, id: str) -> Campaign | None:
        """Campaign ``id``, or ``None``."""
        async with self._read() as conn:
            row = (await conn.execute(select(_C).where(_C.c.id == id))).first()
        return None if row is None else _campaign(row)

    async def list_campaigns(self) -> list[Campaign]:
        """Every campaign, newest first."""
        async with self._read() as conn:
            rows = (await conn.execute(select(_C).order_by(_C.c.created_at.desc()))).all()
        return [_campaign(r) for r in rows]

    async def set_campaign_status(self, id: str, status: CampaignStatus | str) -> Campaign:
        """Set campaign ``id``'s status; return the campaign."""
        try:
            value = CampaignStatus(status).value
        except ValueError:
            known = ", ".join(s.value for s in CampaignStatus)
            raise InvalidRecord("status", status, f"one of {known}") from None
        async with self._write() as conn:
            row = (
                await conn.execute(
                    update(_C)
                    .where(_C.c.id == id)
                    .values(status=value, updated_at=self._now())
                    .returning(*_C.c)
                )
            ).first()
        if row is None:
            raise UnknownRecord(f"no campaign with id {id!r}")
        return _campaign(row)

    async def add_recipients(
        self, campaign_id: str, recipients: Iterable[NewRecipient]
    ) -> AddedRecipients:
        """Add ``recipients`` (any iterable, consumed in chunks) to the campaign.

        A recipient whose line number or number is already in the campaign is skipped and
        counted in ``skipped``; each chunk commits on its own, so an import interrupted half-way
        can simply be run again.
        """
        if await self.get_campaign(campaign_id) is None:
            raise UnknownRecord(f"no campaign with id {campaign_id!r}")
        inserted = skipped = 0
        for batch in chunks(recipients, IMPORT_CHUNK):
            now = self._now()
            rows = []
            for r in batch:
                if isinstance(r.line_number, bool) or not isinstance(r.line_number, int):
                    raise InvalidRecord("line_number", r.line_number, "a whole number")
                if r.msisdn is None and r.status is not RecipientStatus.INVALID:
                    raise InvalidRecord(
                        f"line {r.line_number} msisdn", None, "only an INVALID recipient has none"
                    )
                rows.append(recipient_row(campaign_id, r, now))
            statement = (
                self._insert(_R).values(rows).on_conflict_do_nothing().returning(_R.c.line_number)
            )
            async with self._write() as conn:
                done = len((await conn.execute(statement)).all())
            inserted += done
            skipped += len(rows) - done
        return AddedRecipients(inserted=inserted, skipped=skipped)

    async def get_recipients(
        self,
        campaign_id: str,
        *,
        status: RecipientStatus | str | None = None,
        after_line: int = 0,
        limit: int = 1000,
    ) -> list[Recipient]:
        """Recipients of the campaign with line numbers above ``after_line``, in line order (page
        through with the last line number seen)."""
        require_positive("limit", limit, integer=True)
        query = select(_R).where(_R.c.campaign_id == campaign_id, _R.c.line_number > after_line)
        if status is not None:
            query = query.where(_R.c.status == _statuses([status])[0])
        async with self._read() as conn:
            rows = (await conn.execute(query.order_by(_R.c.line_number).limit(limit))).all()
        return [_recipient(r) for r in rows]

    async def count_recipients(self, campaign_id: str) -> dict[RecipientStatus, int]:
        """How many recipients of the campaign are in each status (absent: none)."""
        query = (
            select(_R.c.status, func.count())
            .where(_R.c.campaign_id == campaign_id)
            .group_by(_R.c.status)
        )
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return {RecipientStatus(status): int(count) for status, count in rows}

    async def claim_batch(
        self,
        campaign_id: str,
        worker_id: str,
        n: int,
        lease_s: float,
        *,
        statuses: Sequence[RecipientStatus | str] = (RecipientStatus.QUEUED,),
    ) -> list[Recipient]:
        """Claim up to ``n`` recipients of the campaign for ``worker_id`` for ``lease_s``
        seconds: free (no live lease), due (``due_at`` passed or unset), in ``statuses``, lowest
        line numbers first. No two workers ever hold the same recipient at once."""
        check_text("worker_id", worker_id, 128)
        require_positive("n", n, integer=True)
        require_positive("lease_s", lease_s)
        wanted = _statuses(statuses)
        async with self._write() as conn:
            rows = await claim_rows(
                conn,
                _R,
                "line_number",
                [_R.c.campaign_id == campaign_id, _R.c.status.in_(wanted)],
                ["line_number"],
                worker_id=worker_id,
                n=n,
                now=self._now(),
                lease_s=lease_s,
            )
        return [_recipient(r) for r in rows]

    async def renew(
        self,
        campaign_id: str,
        worker_id: str,
        line_numbers: Sequence[int],
        lease_s: float,
        *,
        fences: Mapping[int, int] | None = None,
    ) -> int:
        """Extend ``worker_id``'s leases on these recipients to ``lease_s`` seconds from now;
        return how many it still held (fewer: another worker took some over after expiry).
        ``fences`` (line -> fence of the claim) limits it to rows not claimed again since."""
        require_positive("lease_s", lease_s)
        async with self._write() as conn:
            return await renew_rows(
                conn,
                _R,
                [_R.c.campaign_id == campaign_id, held(_R, "line_number", line_numbers, fences)],
                worker_id=worker_id,
                expires=self._now() + timedelta(seconds=lease_s),
            )

    async def release(
        self,
        campaign_id: str,
        worker_id: str,
        line_numbers: Sequence[int],
        *,
        status: RecipientStatus | str | None = None,
        error: str | None = None,
        due_at: datetime | None = None,
        fences: Mapping[int, int] | None = None,
    ) -> int:
        """Give back ``worker_id``'s leases on these recipients, optionally setting their
        ``status``, ``error`` and ``due_at`` (not before then will they be claimed again);
        return how many it still held (only those are changed; with ``fences``, only those
        not claimed again since)."""
        check_aware("due_at", due_at)
        values: dict[str, Any] = {"updated_at": self._now()}
        if status is not None:
            values["status"] = _statuses([status])[0]
        if error is not None:
            values["error"] = error
        if due_at is not None:
            values["due_at"] = due_at
        async with self._write() as conn:
            return await release_rows(
                conn,
                _R,
                [_R.c.campaign_id == campaign_id, held(_R, "line_number", line_numbers, fences)],
                worker_id=worker_id,
                values=values,
            )
