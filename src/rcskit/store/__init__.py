"""Persistence: the outbox and message history, inbound and billing events, capability answers,
campaigns and their recipients, over SQLAlchemy 2 Core (async).

SQLite is the default (a file, WAL mode, created and migrated on open); PostgreSQL is used for a
``postgresql://`` URL (asyncpg; run ``rcskit db upgrade --database URL`` once)::

    from rcskit.message import Message
    from rcskit.store import Store, deterministic_id

    async with await Store.open("rcskit.db") as store:
        id = deterministic_id("spring-sale", "+33612345678")
        await store.messages.record_outbound(id, "google", "+33612345678", Message("Hello"))
        await store.messages.begin_attempt(id)
        ...                                     # send it
        await store.messages.mark_sent(id, id)  # Google: the provider id is our messageId
        await store.messages.apply_status("google", id, "DELIVERED")

A :class:`Store` holds one repository per concern, sharing its engine: ``store.messages``
(:class:`MessageRepository`), ``store.campaigns`` (:class:`CampaignRepository`),
``store.capabilities`` (:class:`CapabilityRepository`), ``store.inbound``
(:class:`InboundRepository`) and ``store.workers`` (:class:`WorkerRepository`).

Message states follow :mod:`rcskit.store.states` (never backwards); worker leases follow
:mod:`rcskit.store.claims`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .campaigns import AddedRecipients, CampaignRepository
    from .capabilities import CapabilityRepository
    from .engine import DEFAULT_DATABASE, create_engine, database_url, display_url
    from .inbound import InboundRepository
    from .messages import MessageRepository
    from .migrate import head_revision, migrate
    from .records import (
        BillingRecord,
        Campaign,
        CampaignStatus,
        CapabilityResult,
        DatabaseUnavailable,
        HistoryEntry,
        InboundRecord,
        InvalidRecord,
        NewRecipient,
        OutboundMessage,
        Recipient,
        RecipientStatus,
        Recorded,
        SchemaOutdated,
        StoreConflict,
        StoreError,
        UnknownRecord,
        deterministic_id,
    )
    from .states import MessageState, is_final, moves, next_state, state_for_status
    from .store import Store
    from .workers import LiveWorker, WorkerRefused, WorkerRepository

__all__ = [
    "DEFAULT_DATABASE",
    "AddedRecipients",
    "BillingRecord",
    "Campaign",
    "CampaignRepository",
    "CampaignStatus",
    "CapabilityRepository",
    "CapabilityResult",
    "DatabaseUnavailable",
    "HistoryEntry",
    "InboundRecord",
    "InboundRepository",
    "InvalidRecord",
    "LiveWorker",
    "MessageRepository",
    "MessageState",
    "NewRecipient",
    "OutboundMessage",
    "Recipient",
    "RecipientStatus",
    "Recorded",
    "SchemaOutdated",
    "Store",
    "StoreConflict",
    "StoreError",
    "UnknownRecord",
    "WorkerRefused",
    "WorkerRepository",
    "create_engine",
    "database_url",
    "deterministic_id",
    "display_url",
    "head_revision",
    "is_final",
    "migrate",
    "moves",
    "next_state",
    "state_for_status",
]

# The names above are loaded on first use (PEP 562): importing a module of this package that
# needs none of them, such as the bot's inbox (``store.inbox*``), does not load SQLAlchemy and
# Alembic. The first access to any of them loads them all.
_MODULES = (
    "campaigns",
    "capabilities",
    "engine",
    "inbound",
    "messages",
    "migrate",
    "records",
    "states",
    "store",
    "workers",
)


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    package = sys.modules[__name__]
    for module_name in _MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        for exported in __all__:
            if exported in module.__dict__ and exported not in package.__dict__:
                object.__setattr__(package, exported, module.__dict__[exported])
    return package.__dict__[name]


class _Package(types.ModuleType):
    """This package; loading a submodule never replaces an exported function of the same name
    (``rcskit.store.migrate`` stays the function, as with eager imports)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in __all__:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
