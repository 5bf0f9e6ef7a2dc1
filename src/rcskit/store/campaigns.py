"""Campaigns (``store.campaigns``) and their recipients, with the claims workers take on recipients.

A campaign's CSV is imported with :meth:`CampaignRepository.import_recipients` (streamed, one
transaction per chunk; a number already on an earlier line is kept as a ``duplicate`` row of its
own line, and re-importing after a crash adds nothing twice); :meth:`~CampaignRepository.
add_recipients` is the plain form (repeated numbers skipped, not reported). A runner then
loops::

    campaigns = store.campaigns
    batch = await campaigns.claim_batch(campaign_id, worker_id, n=100, lease_s=60)
    ... handle each recipient, renew() while working ...
    await campaigns.release(campaign_id, worker_id, [r.line_number], status=RecipientStatus.SENT)

Several workers (processes, hosts) can share a campaign: a recipient is handed to one worker at
a time, and comes back to the pool when its lease expires (see :mod:`rcskit.store.claims`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..message import Message
from .claims import claim_rows, held, release_rows, renew_rows
from .core import StoreCore, check_aware, check_text, chunks, require_positive
from .records import (
    Campaign,
    CampaignStatus,
    ClaimedNumber,
    InvalidRecord,
    NewRecipient,
    Recipient,
    RecipientStatus,
    StoreConflict,
    UnknownRecord,
)
from .schema import campaign_recipients, campaigns

__all__ = ["AddedRecipients", "CampaignRepository", "ImportedRecipients"]

log = logging.getLogger("rcskit.store")

_C = campaigns
_R = campaign_recipients

IMPORT_CHUNK = 1000
"""Recipients per INSERT statement (well under SQLite's and asyncpg's parameter limits), and
per import transaction."""


@dataclass(frozen=True, slots=True)
class ImportedRecipients:
    """What :meth:`CampaignRepository.import_recipients` did: recipients stored ``queued``,
    ``invalid`` and ``duplicate``, and lines skipped because they were ``already`` stored (a
    resumed import)."""

    queued: int = 0
    invalid: int = 0
    duplicates: int = 0
    already: int = 0

    def __add__(self, other: ImportedRecipients) -> ImportedRecipients:
        return ImportedRecipients(
            self.queued + other.queued,
            self.invalid + other.invalid,
            self.duplicates + other.duplicates,
            self.already + other.already,
        )

    @property
    def stored(self) -> int:
        """Rows this import wrote."""
        return self.queued + self.invalid + self.duplicates


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


_RECIPIENT_COLUMNS = (
    "campaign_id",
    "line_number",
    "msisdn",
    "params",
    "status",
    "error",
    "due_at",
    "claim_owner",
    "lease_expires_at",
    "updated_at",
    "fence",
)
"""The columns of ``campaign_recipients`` in table order: what :func:`_recipient` unpacks."""

if tuple(_R.c.keys()) != _RECIPIENT_COLUMNS:  # pragma: no cover (a schema change)
    raise RuntimeError("campaign_recipients' columns changed: update _RECIPIENT_COLUMNS")


_NUMBER_COLUMNS = ("line_number", "msisdn", "fence")
"""What :meth:`CampaignRepository.claim_numbers` reads back."""

_STATUS = {s.value: s for s in RecipientStatus}
"""Recipient statuses by their stored value."""


def _recipient(row: Sequence[Any]) -> Recipient:
    """A recipient from a row of every ``campaign_recipients`` column in table order,
    unpacked by position (claims build thousands: a row mapping each costs more than the
    rest)."""
    (campaign_id, line, msisdn, params, status, error, due, owner, lease, updated, fence) = row
    return Recipient(
        campaign_id,
        line,
        msisdn,
        dict(params),
        _STATUS.get(status) or RecipientStatus(status),
        error,
        due,
        owner,
        lease,
        updated,
        int(fence),
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

    async def import_recipients(
        self, campaign_id: str, recipients: Iterable[NewRecipient]
    ) -> ImportedRecipients:
        """Import ``recipients`` (any iterable, consumed in chunks of :data:`IMPORT_CHUNK`, each
        its own transaction, so an interrupted import can simply be run again).

        A number already on an earlier line is stored as a :attr:`RecipientStatus.DUPLICATE`
        row of its own line (no number, ``error`` naming the first line), so that duplicates
        are reported by line; a line already stored (a resumed import) is skipped and counted
        in ``already``.

        **PostgreSQL and the planner.** Each chunk looks its lines and numbers up in the
        campaign. While a table grows without statistics (never analyzed, or analyzed before
        this campaign existed) the planner believes the campaign has a handful of rows: it
        reads every row of the campaign and tests each against the chunk's 1,000 numbers,
        so every chunk costs more than the one before (40,000 recipients in 42 s, 97 % of it
        in those lookups; growing with the square of the size). Two guards: the lookups are
        planned for their actual values (``plan_cache_mode = force_custom_plan`` in the
        chunk's transaction: a list of constants is tested through a hash, never one by one)
        and the table is analyzed each time this import has doubled the rows it stored
        (1,000, 2,000, 4,000, ...: a dozen ``ANALYZE`` for a million rows) and at the end, so
        the planner's idea of the campaign is never off by more than a factor of two and it
        looks numbers up by the ``(campaign_id, msisdn)`` key.
        """
        total = ImportedRecipients()
        analyzed_at = 0
        for batch in chunks(recipients, IMPORT_CHUNK):
            total = total + await self._import_chunk(campaign_id, batch)
            if self._is_postgresql and total.stored >= max(2 * analyzed_at, IMPORT_CHUNK):
                await self.analyze_recipients()
                analyzed_at = total.stored
        if self._is_postgresql and total.stored > analyzed_at:
            await self.analyze_recipients()
        return total

    async def analyze_recipients(self) -> bool:
        """PostgreSQL: refresh the planner's statistics of the recipients table (``ANALYZE``);
        return whether it was done. Without the privilege (not the table's owner) this logs a
        warning and returns ``False``; autovacuum, when enabled, catches up."""
        if not self._is_postgresql:
            return False
        try:
            async with self._engine.begin() as conn:
                await conn.execute(text(f"ANALYZE {_R.name}"))
        except DBAPIError as err:
            log.warning("could not analyze %s: %s", _R.name, " ".join(str(err.orig).split()))
            return False
        return True

    async def _import_chunk(
        self, campaign_id: str, batch: list[NewRecipient]
    ) -> ImportedRecipients:
        now = self._now()
        for r in batch:
            if isinstance(r.line_number, bool) or not isinstance(r.line_number, int):
                raise InvalidRecord("line_number", r.line_number, "a whole number")
            if r.msisdn is None and RecipientStatus(r.status) in (
                RecipientStatus.QUEUED,
                RecipientStatus.RCS,
            ):
                raise InvalidRecord(
                    f"line {r.line_number} msisdn", None, "only a row never sent has none"
                )
        lines = [r.line_number for r in batch]
        numbers = list({r.msisdn for r in batch if r.msisdn is not None})
        queued = invalid = duplicates = already = 0
        async with self._write() as conn:
            if self._is_postgresql:
                await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            if await conn.scalar(select(_C.c.id).where(_C.c.id == campaign_id)) is None:
                raise UnknownRecord(f"no campaign with id {campaign_id!r}")
            have = {
                int(n)
                for (n,) in (
                    await conn.execute(
                        select(_R.c.line_number).where(
                            _R.c.campaign_id == campaign_id, _R.c.line_number.in_(lines)
                        )
                    )
                ).all()
            }
            holder: dict[str, int] = {}
            if numbers:
                for msisdn, line in (
                    await conn.execute(
                        select(_R.c.msisdn, _R.c.line_number).where(
                            _R.c.campaign_id == campaign_id, _R.c.msisdn.in_(numbers)
                        )
                    )
                ).all():
                    holder[msisdn] = int(line)
            rows: list[dict[str, Any]] = []
            for r in batch:
                if r.line_number in have:
                    already += 1  # imported before (a resumed import)
                    continue
                have.add(r.line_number)
                row = recipient_row(campaign_id, r, now)
                if r.msisdn is None:
                    invalid += row["status"] != RecipientStatus.DUPLICATE.value
                    duplicates += row["status"] == RecipientStatus.DUPLICATE.value
                elif r.msisdn in holder:
                    row.update(
                        msisdn=None,
                        status=RecipientStatus.DUPLICATE.value,
                        error=f"{r.msisdn} is a duplicate of line {holder[r.msisdn]}",
                    )
                    duplicates += 1
                else:
                    holder[r.msisdn] = r.line_number
                    queued += 1
                rows.append(row)
            if rows:
                await conn.execute(self._insert(_R).on_conflict_do_nothing(), rows)
        return ImportedRecipients(queued, invalid, duplicates, already)

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
        rows = await self._claim(campaign_id, worker_id, n, lease_s, statuses)
        return [_recipient(r) for r in rows]

    async def claim_numbers(
        self,
        campaign_id: str,
        worker_id: str,
        n: int,
        lease_s: float,
        *,
        statuses: Sequence[RecipientStatus | str] = (RecipientStatus.QUEUED,),
    ) -> list[ClaimedNumber]:
        """:meth:`claim_batch` for a claimer that needs the numbers alone (a capability
        check): the same claim, returning each recipient's line, number and fence only (no
        parameters or times read back and converted)."""
        rows: Sequence[Sequence[Any]] = await self._claim(
            campaign_id, worker_id, n, lease_s, statuses, columns=_NUMBER_COLUMNS
        )
        return [ClaimedNumber(r[0], r[1], int(r[2])) for r in rows]

    async def _claim(
        self,
        campaign_id: str,
        worker_id: str,
        n: int,
        lease_s: float,
        statuses: Sequence[RecipientStatus | str],
        columns: Sequence[str] | None = None,
    ) -> list[Row[Any]]:
        check_text("worker_id", worker_id, 128)
        require_positive("n", n, integer=True)
        require_positive("lease_s", lease_s)
        wanted = _statuses(statuses)
        status: list[ColumnElement[bool]] = [_R.c.status.in_(wanted)]
        order = ["line_number"]
        if self._is_postgresql and len(wanted) == 1:
            # The same rows, asked so that only the (campaign, status, line) index answers
            # in order. With "status = x ORDER BY line_number" the primary key answers just
            # as well on paper, and the statistics of the import (every recipient queued)
            # make it look the cheaper: the planner walks the campaign in line order past
            # every recipient already processed (0.16-0.2 s per claim of 500 at 150,000 of
            # 200,000 sent, growing all along the run). A range on the status is no
            # equivalence the planner can drop from "ORDER BY status, line_number", which the
            # primary key cannot give without sorting the whole status: 3-4 ms there.
            status = [_R.c.status >= wanted[0], _R.c.status <= wanted[0]]
            order = ["status", "line_number"]
        async with self._write() as conn:
            rows = await claim_rows(
                conn,
                _R,
                "line_number",
                [_R.c.campaign_id == campaign_id],
                order,
                choose=status,
                worker_id=worker_id,
                n=n,
                now=self._now(),
                lease_s=lease_s,
                columns=columns,
            )
        return rows

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
                [
                    _R.c.campaign_id == campaign_id,
                    held(_R, "line_number", line_numbers, fences, arrays=self._is_postgresql),
                ],
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
                [
                    _R.c.campaign_id == campaign_id,
                    held(_R, "line_number", line_numbers, fences, arrays=self._is_postgresql),
                ],
                worker_id=worker_id,
                values=values,
            )
