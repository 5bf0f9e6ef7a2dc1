"""The :class:`Store`: one database (SQLite or PostgreSQL) and its repositories."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from .campaigns import CampaignRepository
from .capabilities import CapabilityRepository
from .core import Clock, StoreCore
from .engine import DEFAULT_DATABASE, create_engine, database_url, display_url, ensure_reachable
from .inbound import InboundRepository
from .messages import MessageRepository
from .migrate import current_revision, head_revision, upgrade_engine
from .records import SchemaOutdated
from .workers import WorkerRepository

__all__ = ["Store"]


class Store(StoreCore):
    """Everything rcskit persists, one repository per concern, on one database::

        async with await Store.open("rcskit.db") as store:          # SQLite, set up on the spot
            await store.messages.record_outbound(id, "google", "+33612345678", message)

        store = await Store.open("postgresql://rcs@db.internal/rcs")  # after `rcskit db upgrade`

    * :attr:`messages` (:class:`~rcskit.store.messages.MessageRepository`): the outbox, send
      attempts, statuses, history and queries;
    * :attr:`campaigns` (:class:`~rcskit.store.campaigns.CampaignRepository`): campaigns, their
      recipients and the leases workers take on them;
    * :attr:`capabilities` (:class:`~rcskit.store.capabilities.CapabilityRepository`): capability
      answers;
    * :attr:`inbound` (:class:`~rcskit.store.inbound.InboundRepository`): inbound user events
      and billing events;
    * :attr:`workers` (:class:`~rcskit.store.workers.WorkerRepository`): live campaign workers
      and the reaper.

    The repositories share the store's engine (one connection pool), clock and, on SQLite, its
    turn for writes; so does :class:`rcskit.campaign.sends.CampaignSends` (the batched writes of
    campaign workers), built as ``CampaignSends(store)``. Every method runs in its own
    transaction; a store may be shared by the tasks of one event loop.
    """

    messages: MessageRepository
    campaigns: CampaignRepository
    capabilities: CapabilityRepository
    inbound: InboundRepository
    workers: WorkerRepository

    def __init__(self, engine: AsyncEngine | StoreCore, *, clock: Clock | None = None) -> None:
        super().__init__(engine, clock=clock)
        self.messages = MessageRepository(self)
        self.campaigns = CampaignRepository(self)
        self.capabilities = CapabilityRepository(self)
        self.inbound = InboundRepository(self)
        self.workers = WorkerRepository(self)

    @classmethod
    async def open(
        cls,
        url: str | URL = DEFAULT_DATABASE,
        *,
        schema: str | None = None,
        upgrade: bool | None = None,
        clock: Clock | None = None,
    ) -> Store:
        """Open the database at ``url`` (a SQLite file path or a ``postgresql://`` URL).

        ``upgrade`` brings the schema to the newest revision first; by default it does so for
        SQLite (zero set-up) and not for PostgreSQL, where a schema that is not at the newest
        revision raises :class:`~rcskit.store.records.SchemaOutdated` (run ``rcskit db
        upgrade`` once, not from every worker). ``schema`` (PostgreSQL) uses that schema.
        ``clock`` replaces the current time (tests).
        """
        url = database_url(url)
        engine = create_engine(url, schema=schema)
        try:
            await ensure_reachable(engine)
            if upgrade if upgrade is not None else url.get_backend_name() == "sqlite":
                await upgrade_engine(engine)
            else:
                current, head = await current_revision(engine), head_revision()
                if current != head:
                    raise SchemaOutdated(
                        f"the database {display_url(url)} is at revision {current or 'none'}, "
                        f"rcskit needs {head}: run `rcskit db upgrade --database URL`"
                    )
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, clock=clock)

    async def close(self) -> None:
        """Close every connection."""
        try:
            await self._close_writer()
        finally:
            await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
