"""Database URLs and async engines: SQLite (aiosqlite, WAL) by default, PostgreSQL (asyncpg).

:func:`database_url` accepts what a user types: a file path (``rcskit.db``,
``/var/lib/rcskit/db.sqlite``), ``sqlite:///path``, or ``postgresql://user@host/db``, and
returns the async SQLAlchemy URL. :func:`create_engine` makes the engine with the settings the
store relies on:

* SQLite: write-ahead logging (readers never block the writer), a 30 s busy timeout, foreign
  keys on, and transactions opened with ``BEGIN IMMEDIATE`` so that a transaction that will
  write takes the single write lock up front (no lock-upgrade deadlocks between processes).
  Read-only work uses :data:`READ_ONLY` (a deferred ``BEGIN``).
* PostgreSQL: an optional ``schema`` becomes the connection's ``search_path`` (the tests give
  every run its own schema).

Durability on SQLite: ``synchronous=NORMAL`` under WAL syncs the log at checkpoints, not at
every commit. A committed transaction survives the process being killed (the WAL is in the
operating system's cache, and the next connection replays it); a power loss or an operating
system crash may lose the last transactions committed before it (never corrupting the file).
Campaign workers depend on the first: a send whose attempt was committed is never repeated
blindly after a crash of the worker.

:class:`SqliteWriter` is a write path that bypasses SQLAlchemy and aiosqlite: one connection
and one thread of its own, a whole transaction per hop to that thread (the campaign journal).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .records import DatabaseUnavailable, InvalidRecord

__all__ = [
    "DEFAULT_DATABASE",
    "READ_ONLY",
    "SqliteWriter",
    "create_engine",
    "database_url",
    "discard_if_unusable",
    "display_url",
    "driver_connection",
    "ensure_reachable",
    "pg_errors_as_sqlalchemy",
    "run_in_sqlite_thread",
    "sqlite_errors_as_sqlalchemy",
    "sqlite_path",
]

DEFAULT_DATABASE = "rcskit.db"
"""The database used when none is given: a SQLite file in the current directory."""

READ_ONLY = {"rcskit_sqlite_begin": "BEGIN"}
"""Execution options for read-only work (a deferred transaction on SQLite)."""

T = TypeVar("T")

_BEGIN_OPTION = "rcskit_sqlite_begin"
_SQLITE_BUSY_TIMEOUT_S = 30.0


def database_url(value: str | URL) -> URL:
    """The async SQLAlchemy URL for what a user gave.

    >>> database_url("postgresql://me@127.0.0.1/rcs").render_as_string()
    'postgresql+asyncpg://me@127.0.0.1/rcs'
    >>> database_url("/tmp/rcskit.db").render_as_string()
    'sqlite+aiosqlite:////tmp/rcskit.db'

    A relative file path is made absolute. In-memory SQLite is refused (every pooled connection
    would see its own empty database), and so are other databases and sync drivers.
    """
    if isinstance(value, URL):
        url = value
    else:
        text = value.strip()
        if not text:
            raise InvalidRecord("database", value, "give a SQLite file path or a postgresql:// URL")
        if "://" not in text:
            return _sqlite_file_url(text)
        if text.startswith("postgres://"):
            text = "postgresql://" + text[len("postgres://") :]
        try:
            url = make_url(text)
        except ArgumentError:
            raise InvalidRecord("database", _hide(text), "not a database URL") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgresql":
        if driver not in ("", "asyncpg"):
            raise InvalidRecord(
                "database", display_url(url), "PostgreSQL goes through asyncpg: postgresql://..."
            )
        return url.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        if driver not in ("", "aiosqlite"):
            raise InvalidRecord(
                "database", display_url(url), "SQLite goes through aiosqlite: sqlite:///path"
            )
        if not url.database or url.database == ":memory:":
            raise InvalidRecord(
                "database", display_url(url), "in-memory SQLite is not supported; give a file"
            )
        return _sqlite_file_url(url.database)
    raise InvalidRecord(
        "database", display_url(url), "supported: a SQLite file path, sqlite:///, postgresql://"
    )


def _sqlite_file_url(path: str) -> URL:
    if path == ":memory:":
        raise InvalidRecord("database", path, "in-memory SQLite is not supported; give a file")
    return URL.create("sqlite+aiosqlite", database=str(Path(path).expanduser().absolute()))


def _hide(text: str) -> str:
    """``text`` with anything between ``://`` and ``@`` masked (a password may be there)."""
    scheme, sep, rest = text.partition("://")
    if sep and "@" in rest:
        return f"{scheme}://***@{rest.rpartition('@')[2]}"
    return text


def display_url(url: URL | str) -> str:
    """The URL with its password masked, for messages and logs."""
    if isinstance(url, str):
        try:
            parsed = make_url(url)
        except ArgumentError:
            return _hide(url)
        return parsed.render_as_string(hide_password=True)
    return url.render_as_string(hide_password=True)


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, ``None`` for other databases."""
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def create_engine(url: str | URL, *, schema: str | None = None) -> AsyncEngine:
    """An async engine for ``url`` (see :func:`database_url`), set up as the module says.

    ``schema`` (PostgreSQL only) is put first on the ``search_path``: every table is created
    and looked up there. For SQLite the file's folder is created when missing.
    """
    url = database_url(url)
    if url.get_backend_name() == "sqlite":
        if schema is not None:
            raise InvalidRecord("schema", schema, "schemas exist on PostgreSQL only")
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_S})
        _set_up_sqlite(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if schema is not None:
        if not schema.replace("_", "").isalnum():
            raise InvalidRecord("schema", schema, "letters, digits and _ only")
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(url, connect_args=connect_args, pool_size=5, max_overflow=5)


async def ensure_reachable(engine: AsyncEngine) -> None:
    """Open (and return to the pool) one connection, or raise :class:`DatabaseUnavailable`
    naming the database (password masked) and the reason in one line."""
    try:
        async with engine.connect():
            pass
    except (OSError, DBAPIError) as err:
        cause: BaseException = err.orig if isinstance(err, DBAPIError) and err.orig else err
        reason = (
            cause.strerror
            if isinstance(cause, OSError) and cause.strerror
            else (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        )
        raise DatabaseUnavailable(
            f"cannot connect to the database {display_url(engine.url)}: {reason}"
        ) from None


_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={int(_SQLITE_BUSY_TIMEOUT_S * 1000)}",
)
"""What every SQLite connection of the store is set up with (see the module docstring)."""


def _set_up_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event (below) emit BEGIN, instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN_OPTION, "BEGIN IMMEDIATE"))


async def driver_connection(conn: AsyncConnection) -> Any:
    """The driver's own connection under ``conn``: an ``asyncpg.Connection`` on PostgreSQL, an
    ``aiosqlite.Connection`` on SQLite (for hot paths that bypass SQLAlchemy; it shares
    ``conn``'s session, its transaction and, on PostgreSQL, its ``search_path``)."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


async def run_in_sqlite_thread(aio: Any, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``fn(connection)`` on an aiosqlite connection's ``sqlite3`` connection, in its
    thread, in one hop (aiosqlite runs each statement as one hop otherwise). ``fn`` runs in
    whatever transaction the connection is in."""
    # aiosqlite has no public call for this; SQLAlchemy's own adapter uses the same queue.
    result: T = await aio._execute(lambda: fn(aio._conn))
    return result


async def sqlite_errors_as_sqlalchemy(what: str, work: Awaitable[T]) -> T:
    """``await work`` (raw ``sqlite3`` work of a hot path), its errors raised as SQLAlchemy's,
    as the rest of the store raises them; ``what`` names the work in the error."""
    try:
        return await work
    except sqlite3.IntegrityError as err:
        raise sa_exc.IntegrityError(what, None, err) from err
    except sqlite3.OperationalError as err:
        raise sa_exc.OperationalError(what, None, err) from err
    except sqlite3.Error as err:
        raise sa_exc.DBAPIError(what, None, err) from err


async def pg_errors_as_sqlalchemy(
    what: str, conn: AsyncConnection, driver: Any, work: Awaitable[T]
) -> T:
    """``await work`` (raw asyncpg work on ``driver``, the connection under ``conn``), its
    errors raised as SQLAlchemy's, as the rest of the store raises them; a connection that
    may be unusable afterwards (lost, or cancelled mid-statement) never goes back to the pool."""
    import asyncpg  # type: ignore[import-untyped]

    try:
        return await work
    except asyncpg.IntegrityConstraintViolationError as err:
        raise sa_exc.IntegrityError(what, None, err) from err
    except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError) as err:
        await discard_if_unusable(conn, driver)
        raise sa_exc.OperationalError(what, None, err) from err
    except asyncpg.PostgresError as err:
        raise sa_exc.DBAPIError(what, None, err) from err
    except BaseException:
        # cancelled (or worse) in the middle of a statement: never pool this connection again
        await discard_if_unusable(conn, driver)
        raise


async def discard_if_unusable(conn: AsyncConnection, driver: Any) -> None:
    """Take ``conn`` out of the pool when its driver connection (asyncpg) may be unusable:
    closed, or left in a transaction by an error or a cancellation mid-statement."""
    if driver.is_closed() or driver.is_in_transaction():
        with contextlib.suppress(Exception):
            await conn.invalidate()


class SqliteWriter:
    """A SQLite write path of its own: one ``sqlite3`` connection (set up as the engine's are),
    used by one thread, opened on first use.

    :meth:`transaction` runs ``BEGIN IMMEDIATE``, ``fn(connection)`` and ``COMMIT`` (or
    ``ROLLBACK`` when ``fn`` raises) in **one** hop to that thread, where a transaction on an
    engine's pooled connection takes six (a cursor, ``BEGIN``, closing the cursor, the work,
    ``COMMIT``, the pool's reset), each a wake-up of the event loop, besides SQLAlchemy's own
    work. The caller takes the store's turn for writes first (one writer at a time per
    process, as :meth:`rcskit.store.core.StoreCore._write` does).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._db: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SqliteWriter({str(self.path)!r})"

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a write transaction of its own, in the writer's thread; committed
        when this returns. Cancelled meanwhile, the transaction still ends (committed or
        rolled back) before the cancellation is raised, so that the next writer does not
        wait for it on the database's lock."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="rcskit-sqlite-writer")
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, fn)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            raise

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        if db is None:
            db = self._db = self._connect()
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            timeout=_SQLITE_BUSY_TIMEOUT_S,
            isolation_level=None,  # transactions are begun and ended explicitly
            check_same_thread=False,  # used by the writer's one thread; closed from another
        )
        try:
            for pragma in _SQLITE_PRAGMAS:
                db.execute(pragma)
        except BaseException:
            db.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection and end the thread (as an engine's ``dispose``: a later
        transaction opens them again)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # (in the thread, after the transactions already handed to it)
        await asyncio.get_running_loop().run_in_executor(executor, self._disconnect)
        executor.shutdown(wait=False)

    def _disconnect(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()
