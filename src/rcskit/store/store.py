"""The :class:`Store`: one API over SQLite and PostgreSQL for everything rcskit persists."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.engine import URL

from .campaigns import CampaignStore
from .capabilities import CapabilityStore
from .core import Clock
from .engine import DEFAULT_DATABASE, create_engine, database_url, display_url, ensure_reachable
from .inbound import InboundStore
from .migrate import current_revision, head_revision, upgrade_engine
from .outbox import OutboxStore
from .records import SchemaOutdated
from .workers import WorkerStore

__all__ = ["Store"]


class Store(OutboxStore, CampaignStore, InboundStore, CapabilityStore, WorkerStore):
    """Everything rcskit persists: the outbox and message history, inbound and billing events,
    capability answers, campaigns and their recipients.

    ::

        async with await Store.open("rcskit.db") as store:          # SQLite, set up on the spot
            await store.record_outbound(id, "google", "+33612345678", message)

        store = await Store.open("postgresql://rcs@db.internal/rcs")  # after `rcskit db upgrade`

    Methods are grouped in :class:`~rcskit.store.outbox.OutboxStore`,
    :class:`~rcskit.store.campaigns.CampaignStore`, :class:`~rcskit.store.inbound.InboundStore`
    :class:`~rcskit.store.capabilities.CapabilityStore` and (live workers, the reaper)
    :class:`~rcskit.store.workers.WorkerStore`; the batched writes of campaign workers are
    :class:`rcskit.campaign.sends.CampaignSends`, built on a store. Every method runs in its own
    transaction; a store may be shared by the tasks of one event loop.
    """

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
