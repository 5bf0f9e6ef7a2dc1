"""The blocking facade: the async :class:`~rcskit.client.RcsClient` for scripts and WSGI apps.

:class:`SyncRcsClient` runs one ``RcsClient`` on a private event loop in a daemon thread
and hands each call to it; there is no second implementation. It is safe to use from
many threads at once (calls run concurrently on the loop, sharing the connection pool,
the token cache and the rate limiter)::

    from rcskit.sync import SyncRcsClient
    from rcskit.client import DotgoConfig

    with SyncRcsClient(DotgoConfig("OsOsQ0GwNvUdLTV9Bd", "client-id", "secret")) as client:
        print(client.send("+914253136789", "hello world").message_id)
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterable
from concurrent.futures import Future
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from .client import RcsClient, Recipient
from .message import Message
from .providers.base import Provider, ProviderConfig
from .results import (
    BulkCapabilities,
    BulkJob,
    Capabilities,
    FileInfo,
    MessageStatus,
    RevokeResult,
    SendManyResult,
    SendResult,
    TesterResult,
)

__all__ = ["SyncRcsClient"]

T = TypeVar("T")


class SyncRcsClient:
    """Blocking twin of :class:`~rcskit.client.RcsClient`: same arguments, same method names.

    ``call_timeout`` bounds how long a call may block in total (``None``: as long as the
    async client's own timeouts and retries take). Close it (or use ``with``) to stop the
    loop thread and release connections.
    """

    def __init__(
        self,
        provider: ProviderConfig | Provider,
        *,
        call_timeout: float | None = None,
        **options: Any,
    ) -> None:
        self.call_timeout = call_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="rcskit-sync-loop", daemon=True)
        self._thread.start()
        self._closed = False

        async def make() -> RcsClient:
            return RcsClient(provider, **options)

        try:
            self.client: RcsClient = self._submit(make())
        except BaseException:
            self._stop()
            raise

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"SyncRcsClient({self.client!r}, {state})"

    def __enter__(self) -> SyncRcsClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        if getattr(self, "_closed", False):
            coro.close()
            raise RuntimeError("SyncRcsClient is closed")
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("SyncRcsClient cannot be called from its own event loop")
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(self.call_timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Close the client (and its transport) and stop the loop thread."""
        if self._closed:
            return
        try:
            self._submit(self.client.aclose())
        finally:
            self._closed = True
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()

    # ------------------------------------------------------------ operations

    def send(self, to: Recipient, message: Message | object) -> SendResult:
        """Blocking :meth:`RcsClient.send`."""
        return self._submit(self.client.send(to, message))

    def send_typing(self, to: Recipient, active: bool = True) -> None:
        """Blocking :meth:`RcsClient.send_typing`."""
        self._submit(self.client.send_typing(to, active))

    def mark_read(self, message_id: str, to: Recipient | None = None) -> None:
        """Blocking :meth:`RcsClient.mark_read`."""
        self._submit(self.client.mark_read(message_id, to))

    def status(self, message_id: str) -> MessageStatus:
        """Blocking :meth:`RcsClient.status`."""
        return self._submit(self.client.status(message_id))

    def revoke(
        self, message_id: str, to: Recipient | None = None, *, conversation_id: str | None = None
    ) -> RevokeResult:
        """Blocking :meth:`RcsClient.revoke`."""
        return self._submit(self.client.revoke(message_id, to, conversation_id=conversation_id))

    def capabilities(self, number: Recipient) -> Capabilities:
        """Blocking :meth:`RcsClient.capabilities`."""
        return self._submit(self.client.capabilities(number))

    def bulk_capabilities(self, numbers: Iterable[str]) -> BulkCapabilities:
        """Blocking :meth:`RcsClient.bulk_capabilities`."""
        return self._submit(self.client.bulk_capabilities(list(numbers)))

    def upload_file(
        self,
        source: str | os.PathLike[str] | bytes,
        *,
        mime_type: str | None = None,
        until: datetime | str | None = None,
        filename: str | None = None,
        thumbnail_url: str | None = None,
    ) -> FileInfo:
        """Blocking :meth:`RcsClient.upload_file`."""
        return self._submit(
            self.client.upload_file(
                source,
                mime_type=mime_type,
                until=until,
                filename=filename,
                thumbnail_url=thumbnail_url,
            )
        )

    def send_many(
        self,
        recipients: Iterable[Recipient],
        message: Message | object,
        *,
        validity_minutes: int | None = None,
    ) -> SendManyResult:
        """Blocking :meth:`RcsClient.send_many`."""
        return self._submit(
            self.client.send_many(list(recipients), message, validity_minutes=validity_minutes)
        )

    def submit_bulk_capabilities(self, numbers: Iterable[str]) -> BulkJob:
        """Blocking :meth:`RcsClient.submit_bulk_capabilities`."""
        return self._submit(self.client.submit_bulk_capabilities(list(numbers)))

    def bulk_capabilities_result(self, job: BulkJob) -> BulkCapabilities | None:
        """Blocking :meth:`RcsClient.bulk_capabilities_result`."""
        return self._submit(self.client.bulk_capabilities_result(job))

    def file_info(self, file_id: str) -> FileInfo:
        """Blocking :meth:`RcsClient.file_info`."""
        return self._submit(self.client.file_info(file_id))

    def delete_file(self, file_id: str) -> None:
        """Blocking :meth:`RcsClient.delete_file`."""
        self._submit(self.client.delete_file(file_id))

    def add_tester(self, number: Recipient) -> TesterResult:
        """Blocking :meth:`RcsClient.add_tester`."""
        return self._submit(self.client.add_tester(number))
