"""The async client: one object for every provider's operations.

::

    from rcskit.client import DotgoConfig, RcsClient

    async with RcsClient(DotgoConfig("OsOsQ0GwNvUdLTV9Bd", "client-id", "secret")) as client:
        caps = await client.capabilities("+914253136789")
        if caps.rcs_enabled:
            sent = await client.send("+914253136789", "hello world")
            print(sent.message_id, sent.status)

Each call: checks that the provider offers the operation (else
:class:`~rcskit.errors.UnsupportedFeature`, before any network call), checks the input
(phone numbers, message limits), builds the request (a pure provider function), waits for
the rate limiter, adds credentials, sends it, and maps an error answer to the exception
tree. A 401 refreshes the token and retries once; a second 401 is
:class:`~rcskit.errors.AuthError`. Retryable errors (429, 5xx, no answer) are retried with
backoff by the :class:`~rcskit.retry.RetryPolicy`; an operation that is not idempotent (a
send without a client message id) is retried only when it surely did not arrive (429, or
no connection).

The client never reads the environment: everything comes in as arguments.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import TypeVar

from . import limits
from .auth import Auth, NoAuth
from .errors import (
    AuthError,
    InvalidMessage,
    NotRcsCapable,
    ProviderError,
    RateLimited,
    RcsError,
    UnsupportedFeature,
    Violation,
)
from .message import Contact, Message, Template, parse_rfc3339
from .observability import instrumentation as obs
from .phones import E164_FORM, normalize_msisdn
from .providers.base import (
    BulkArgs,
    BulkJobOperations,
    CapabilitiesArgs,
    FileArgs,
    Operation,
    Provider,
    ProviderConfig,
    ReadArgs,
    RevokeArgs,
    SendArgs,
    SendManyArgs,
    StatusArgs,
    TesterArgs,
    TypingArgs,
    UploadArgs,
)
from .providers.dotgo import DotgoConfig
from .providers.dotgo_google import DotgoGoogleConfig
from .providers.google_rbm import GoogleRbmConfig, ServiceAccount
from .providers.maap import MaapConfig
from .providers.orange import OrangeConfig
from .providers.smsbox import SmsboxConfig
from .ratelimit import RateLimiter
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
from .retry import RetryPolicy
from .transport import AiohttpTransport, ConnectError, HttpRequest, HttpResponse, Transport

__all__ = [
    "DEFAULT_FILE_VALIDITY",
    "DotgoConfig",
    "DotgoGoogleConfig",
    "GoogleRbmConfig",
    "MaapConfig",
    "OrangeConfig",
    "RcsClient",
    "ServiceAccount",
    "SmsboxConfig",
]

log = logging.getLogger("rcskit.client")

A = TypeVar("A")
R = TypeVar("R")

DEFAULT_FILE_VALIDITY = timedelta(days=30)
"""How long an uploaded file is kept when ``until`` is not given (rcs-maap-bot's default)."""

Recipient = Contact | str


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


class RcsClient:
    """An async RCS client for one provider account.

    - ``provider``: a config (:class:`DotgoConfig`, :class:`DotgoGoogleConfig`,
      :class:`MaapConfig`, :class:`OrangeConfig`, :class:`SmsboxConfig`,
      :class:`GoogleRbmConfig`) or a :class:`~rcskit.providers.base.Provider` (then pass
      ``auth``);
    - ``auth``: credentials (default: the config's own token flow, cached per client);
    - ``transport``: default a pooled :class:`~rcskit.transport.AiohttpTransport`, closed
      with the client;
    - ``limiter``: a :class:`~rcskit.ratelimit.RateLimiter` for sends, revocations and
      capability checks, or a mapping ``{"send": ..., "bulk": ...}`` by rate group;
    - ``retry``: the :class:`~rcskit.retry.RetryPolicy`;
    - ``validation``: ``"strict"`` (raise), ``"warn"`` (log) or ``"off"`` for message limits;
    - ``timeout``: seconds per HTTP request; ``region``: default region for national numbers.
    """

    def __init__(
        self,
        provider: ProviderConfig | Provider,
        *,
        auth: Auth | None = None,
        transport: Transport | None = None,
        limiter: RateLimiter | Mapping[str, RateLimiter] | None = None,
        retry: RetryPolicy | None = None,
        validation: limits.Policy | str = limits.Policy.STRICT,
        timeout: float = 30.0,
        region: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if isinstance(provider, Provider):
            self.provider = provider
            self.auth: Auth = auth if auth is not None else NoAuth()
        else:
            self.provider = provider.provider()
            self.auth = auth if auth is not None else provider.auth()
        self._owns_transport = transport is None
        # the auth's synchronous fast path, where it has one (see rcskit.auth)
        self._ready_headers: Callable[[], Mapping[str, str] | None] | None = getattr(
            self.auth, "ready_headers", None
        )
        self._checked: Message | None = None  # the last message found within the limits
        self._contacts: dict[str, Contact] = {}  # numbers as given -> contacts (immutable)
        self.transport: Transport = transport if transport is not None else AiohttpTransport()
        if limiter is None:
            self._limiters: dict[str, RateLimiter] = {}
        elif isinstance(limiter, Mapping):
            self._limiters = dict(limiter)
        else:
            self._limiters = {"send": limiter}
        self.retry = retry if retry is not None else RetryPolicy()
        self.validation = limits.Policy(validation)
        if timeout <= 0:
            raise ValueError(f"RcsClient.timeout must be > 0, got {timeout}")
        self.timeout = timeout
        self.region = region
        self._sleep = sleep

    @property
    def limiters(self) -> Mapping[str, RateLimiter]:
        """The rate limiters this client waits on, by rate group (``"send"``, ``"bulk"``),
        as given to the constructor (read-only)."""
        return MappingProxyType(self._limiters)

    def __repr__(self) -> str:
        return (
            f"RcsClient(provider={self.provider.name!r}, auth={self.auth!r}, "
            f"transport={self.transport!r})"
        )

    async def __aenter__(self) -> RcsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport if the client created it."""
        if self._owns_transport:
            await self.transport.close()

    # ------------------------------------------------------------ operations

    async def send(
        self, to: Recipient, message: Message | object, *, e164: bool = False
    ) -> SendResult:
        """Send ``message`` (a :class:`Message`, a content such as :class:`~rcskit.message.Card`
        or :class:`~rcskit.message.Template`, or a plain string) to ``to``.

        Providers that take client message ids get one (a uuid4) when the message has none;
        retries reuse it, so the provider never delivers twice.

        ``e164=True``: ``to`` is in E.164 already, as :func:`~rcskit.phones.normalize_msisdn`
        returns it (a number read back from a campaign's store): in that form (``+`` then 1 to
        15 digits, the first not 0) it is used as it is, without being parsed again; any other
        form is normalised (or refused) as usual.
        """
        p = self.provider
        op = p.require(p.send, "send")
        contact = self._contact(to, e164=e164)
        msg = self._prepare(message)
        started = time.perf_counter()
        with obs.operation_span("rcskit.send", {"rcs.provider": p.name}):
            try:
                result = await self._call(op, "send", SendArgs(contact, msg))
            except Exception as err:
                obs.observe_send(p.name, started, err)
                raise
            obs.observe_send(p.name, started, None)
        return result

    async def send_many(
        self,
        recipients: Iterable[Recipient],
        message: Message | object,
        *,
        validity_minutes: int | None = None,
    ) -> SendManyResult:
        """Send one ``message`` to several ``recipients`` in one request, where the provider
        offers it (SMSBOX: up to 5000 numbers, ``validity_minutes`` 1 to 10080).

        Numbers are normalised to E.164 and de-duplicated (first occurrence kept). More
        recipients than the provider takes in one request raise
        :class:`~rcskit.errors.InvalidMessage` naming the limit, before any network call:
        split the list yourself (each request is one send with its own id).
        """
        p = self.provider
        op = p.require(p.send_many, "send_many")
        unique: dict[str, Contact] = {}
        for i, to in enumerate(recipients):
            if isinstance(to, str):
                to = normalize_msisdn(to, self.region, field=f"recipients[{i}]")
            contact = self._contact(to)
            unique.setdefault(str(contact), contact)
        contacts = tuple(unique.values())
        if not contacts:
            raise InvalidMessage([Violation("recipients", [], "at least one recipient")])
        if op.batch_size is not None and len(contacts) > op.batch_size:
            raise InvalidMessage(
                [
                    Violation(
                        "recipients",
                        f"{len(contacts)} numbers",
                        f"at most {op.batch_size} per request for {p.name}",
                    )
                ]
            )
        msg = self._prepare(message)
        return await self._call(op, "send_many", SendManyArgs(contacts, msg, validity_minutes))

    async def send_typing(self, to: Recipient, active: bool = True) -> None:
        """Show (or, where the provider can, stop) the typing indicator to ``to``."""
        p = self.provider
        op = p.require(p.send_typing, "send_typing")
        await self._call(op, "send_typing", TypingArgs(self._contact(to), active, _new_id()))

    async def mark_read(self, message_id: str, to: Recipient | None = None) -> None:
        """Send a read receipt for the user's message ``message_id`` (some need ``to``)."""
        p = self.provider
        op = p.require(p.mark_read, "mark_read")
        contact = None if to is None else self._contact(to)
        await self._call(op, "mark_read", ReadArgs(_id(message_id), contact, _new_id()))

    async def status(self, message_id: str) -> MessageStatus:
        """The current status of the sent message ``message_id``."""
        p = self.provider
        op = p.require(p.status, "status")
        return await self._call(op, "status", StatusArgs(_id(message_id)))

    async def revoke(
        self, message_id: str, to: Recipient | None = None, *, conversation_id: str | None = None
    ) -> RevokeResult:
        """Ask the provider to revoke an undelivered message (``conversation_id`` as the send
        returned it, where the provider uses one)."""
        p = self.provider
        op = p.require(p.revoke, "revoke")
        contact = None if to is None else self._contact(to)
        return await self._call(op, "revoke", RevokeArgs(_id(message_id), contact, conversation_id))

    async def capabilities(self, number: Recipient) -> Capabilities:
        """What ``number``'s device supports. A user the provider says cannot be reached over
        RCS gives ``rcs_enabled=False`` (not an exception)."""
        p = self.provider
        op = p.require(p.capabilities, "capabilities")
        contact = self._contact(number, "number")
        try:
            return await self._call(op, "capabilities", CapabilitiesArgs(contact, _new_id()))
        except NotRcsCapable as err:
            return Capabilities(
                provider=p.name, number=str(contact), rcs_enabled=False, raw=err.raw
            )

    async def bulk_capabilities(
        self, numbers: Iterable[str], *, e164: bool = False
    ) -> BulkCapabilities:
        """Which of ``numbers`` are RCS-reachable. Numbers are normalised to E.164 and
        de-duplicated; lists above the provider's batch size go in several requests.

        ``e164=True``: the numbers are in E.164 already, as
        :func:`~rcskit.phones.normalize_msisdn` returns them (a campaign's stored recipients):
        those in that form (``+`` then 1 to 15 digits, the first not 0) are used as they are,
        without being parsed again; any other is normalised (or refused) as usual.

        Where the check is asynchronous (Orange), each batch is submitted and its result
        polled for (see :class:`~rcskit.providers.base.BulkJobOperations`); use
        :meth:`submit_bulk_capabilities` and :meth:`bulk_capabilities_result` to do it in
        two steps yourself.
        """
        p = self.provider
        job_ops = p.bulk_job
        op = None if job_ops is not None else p.require(p.bulk_capabilities, "bulk_capabilities")
        ordered = self._numbers(numbers, e164=e164)
        if not ordered:
            return BulkCapabilities(
                provider=p.name, reachable=frozenset(), unreachable=frozenset(), raw=()
            )
        batch = job_ops.submit.batch_size if job_ops is not None else op.batch_size if op else None
        size = batch or len(ordered)
        reachable: set[str] = set()
        unreachable: set[str] = set()
        unknown: set[str] = set()
        raws: list[object] = []
        for start in range(0, len(ordered), size):
            args = BulkArgs(tuple(ordered[start : start + size]))
            if job_ops is not None:
                part = await self._run_bulk_job(job_ops, args)
            else:
                assert op is not None
                part = await self._call(op, "bulk_capabilities", args)
            reachable |= part.reachable
            unreachable |= part.unreachable
            unknown |= part.unknown
            raws.extend(part.raw if isinstance(part.raw, tuple) else (part.raw,))
        return BulkCapabilities(
            provider=p.name,
            reachable=frozenset(reachable),
            unreachable=frozenset(unreachable - reachable),
            unknown=frozenset(unknown - reachable - unreachable),
            raw=tuple(raws),
        )

    async def submit_bulk_capabilities(self, numbers: Iterable[str]) -> BulkJob:
        """Start an asynchronous bulk check (Orange) of at most one batch of ``numbers``;
        read it later with :meth:`bulk_capabilities_result`."""
        p = self.provider
        job_ops = p.bulk_job
        if job_ops is None:
            raise UnsupportedFeature(
                "submit_bulk_capabilities",
                p.name,
                "its bulk check answers at once: use bulk_capabilities",
            )
        ordered = self._numbers(numbers)
        if not ordered:
            raise InvalidMessage([Violation("numbers", [], "at least one number")])
        size = job_ops.submit.batch_size
        if size is not None and len(ordered) > size:
            raise InvalidMessage(
                [Violation("numbers", f"{len(ordered)} numbers", f"at most {size} per request")]
            )
        return await self._call(job_ops.submit, "bulk_capabilities", BulkArgs(tuple(ordered)))

    async def bulk_capabilities_result(self, job: BulkJob) -> BulkCapabilities | None:
        """The result of a submitted bulk check, or ``None`` while the provider is not done."""
        p = self.provider
        job_ops = p.bulk_job
        if job_ops is None:
            raise UnsupportedFeature(
                "bulk_capabilities_result",
                p.name,
                "its bulk check answers at once: use bulk_capabilities",
            )
        return await self._call(job_ops.result, "bulk_capabilities", job)

    async def _run_bulk_job(self, job_ops: BulkJobOperations, args: BulkArgs) -> BulkCapabilities:
        job = await self._call(job_ops.submit, "bulk_capabilities", args)
        waited = 0.0
        while True:
            result = await self._call(job_ops.result, "bulk_capabilities", job)
            if result is not None:
                return result
            if waited + job_ops.poll_interval > job_ops.max_wait:
                raise ProviderError(
                    f"bulk capability check not finished after {waited:.0f} s; read it later "
                    "with bulk_capabilities_result(job) (the job is this error's raw)",
                    provider=self.provider.name,
                    raw=job,
                )
            await self._sleep(job_ops.poll_interval)
            waited += job_ops.poll_interval

    def _numbers(self, numbers: Iterable[str], *, e164: bool = False) -> list[str]:
        """``numbers`` normalised (one refused names ``numbers[i]``), each once, in order;
        with ``e164``, those already in E.164 form as they are (see :meth:`bulk_capabilities`)."""
        unique: dict[str, None] = {}
        canonical = E164_FORM.fullmatch
        for i, number in enumerate(numbers):
            if e164 and type(number) is str and canonical(number):
                unique[number] = None
            else:
                unique[normalize_msisdn(number, self.region, field=f"numbers[{i}]")] = None
        return list(unique)

    async def upload_file(
        self,
        source: str | os.PathLike[str] | bytes,
        *,
        mime_type: str | None = None,
        until: datetime | str | None = None,
        filename: str | None = None,
        thumbnail_url: str | None = None,
    ) -> FileInfo:
        """Store a file on the provider: a local path, raw ``bytes`` (give ``mime_type``), or
        a public ``https://`` URL the provider fetches. ``until`` (default: 30 days from now)
        is how long the provider keeps it; ``thumbnail_url`` goes with a URL where the
        provider takes one (Google). The result's ``file_id`` goes in
        ``File(file_id=...)`` / ``Media(file_id=...)``."""
        p = self.provider
        op = p.require(p.upload_file, "upload_file")
        until_text = _until(until)
        if thumbnail_url is not None and not p.upload_thumbnails:
            raise UnsupportedFeature("upload_file thumbnail_url", p.name, "no thumbnail field")
        if thumbnail_url is not None and not _is_url(thumbnail_url):
            raise InvalidMessage(
                [Violation("thumbnail_url", thumbnail_url, "a public http(s) URL")]
            )
        if isinstance(source, str) and _is_url(source):
            mime = mime_type or _guess_mime(source)
            args = UploadArgs(
                mime, until_text, url=source, filename=filename, thumbnail_url=thumbnail_url
            )
        else:
            if thumbnail_url is not None:
                raise InvalidMessage(
                    [Violation("thumbnail_url", thumbnail_url, "only with a file given by URL")]
                )
            if isinstance(source, bytes):
                content, name = source, filename
            else:
                path = Path(source)
                content = await asyncio.to_thread(_read_file, path)
                name = filename or path.name
            mime = mime_type or _guess_mime(name)
            self._check_file_size(len(content))
            args = UploadArgs(mime, until_text, content=content, filename=name)
        return await self._call(op, "upload_file", args)

    async def file_info(self, file_id: str) -> FileInfo:
        """What the provider knows of the stored file ``file_id`` (URL, size, status, expiry)."""
        p = self.provider
        op = p.require(p.file_info, "file_info")
        return await self._call(op, "file_info", FileArgs(_id(file_id, "file_id")))

    async def delete_file(self, file_id: str) -> None:
        """Delete the stored file ``file_id``."""
        p = self.provider
        op = p.require(p.delete_file, "delete_file")
        await self._call(op, "delete_file", FileArgs(_id(file_id, "file_id")))

    async def add_tester(self, number: Recipient) -> TesterResult:
        """Invite ``number`` as a tester of the (unlaunched) bot."""
        p = self.provider
        op = p.require(p.add_tester, "add_tester")
        return await self._call(op, "add_tester", TesterArgs(self._contact(number, "number")))

    # ------------------------------------------------------------ machinery

    def _prepare(self, message: Message | object) -> Message:
        """The message as sent: wrapped in a :class:`Message`, refused if a template goes to
        a provider without templates, given an id where the provider takes client ids, and
        checked against the provider's limits (raising under ``strict``).

        The last message found clean is remembered by identity, so one message object sent
        to many recipients is checked once. Only deeply immutable, time-independent messages
        are remembered: not a template (its params are a dict) nor one with ``expire_time``.
        """
        p = self.provider
        msg = message if isinstance(message, Message) else Message(message)
        if not p.templates and type(msg.content) is Template:
            raise UnsupportedFeature("template messages", p.name, "no registered templates")
        if p.client_message_ids and msg.message_id is None:
            msg = msg.with_id(str(uuid.uuid4()))
        if msg is self._checked:
            return msg
        found = limits.validate(msg, self.provider.limits_profile or "gsma", self.validation)
        if (
            not found
            and self.validation is not limits.Policy.OFF
            and msg.expire_time is None
            and type(msg.content) is not Template
        ):
            self._checked = msg
        return msg

    def _contact(self, to: Recipient, field: str = "to", *, e164: bool = False) -> Contact:
        """``to`` as a :class:`Contact`; a bad number raises InvalidMessage naming ``field``.

        Parsed numbers are remembered (contacts are immutable), so a campaign's or a bot's
        repeated recipients are parsed once. With ``e164``, a number in E.164 form is taken as
        it is (see :meth:`send`): built without validation, which would parse it again."""
        if isinstance(to, Contact):
            return to
        if not isinstance(to, str):
            raise InvalidMessage([Violation(field, to, "a phone number or a Contact")])
        if e164 and E164_FORM.fullmatch(to):
            return Contact.model_construct(msisdn=to)
        found = self._contacts.get(to)
        if found is None:
            found = Contact(normalize_msisdn(to, self.region, field=field))
            if len(self._contacts) >= _CONTACT_CACHE:
                self._contacts.clear()
            self._contacts[to] = found
        return found

    def _check_file_size(self, size: int) -> None:
        name = self.provider.limits_profile
        if name is None:
            return
        most = limits.profile(name).max_file_bytes
        if size > most:
            raise InvalidMessage(
                [
                    Violation(
                        "file", f"{size} bytes", f"at most {most} bytes for {self.provider.name}"
                    )
                ]
            )

    async def _send_token_request(self, request: HttpRequest) -> HttpResponse:
        try:
            response = await self.transport.send(request, self.timeout)
        except Exception:
            obs.observe_token_request(self.provider.name, False)
            raise
        obs.observe_token_request(self.provider.name, 200 <= response.status < 300)
        return response

    async def _call(self, op: Operation[A, R], name: str, args: A) -> R:
        """Build once, then send (retrying per policy) and parse.

        The retry loop is written out here rather than through :func:`rcskit.retry.retrying`
        because it needs to know whether the failed attempt reached the wire.
        """
        request = op.build(args)
        limiter = self._limiters.get(op.rate_group) if op.rate_group else None
        attempt = 1
        waited = 0.0
        while True:
            sent = False
            try:
                ready = self._ready_headers
                headers = ready() if ready is not None else None
                if headers is None:
                    headers = await self.auth.headers(self._send_token_request)
                if limiter is not None:  # paced right before sending, after any token wait
                    paced = time.perf_counter()
                    await limiter.acquire()
                    obs.observe_ratelimit_wait(self.provider.name, time.perf_counter() - paced)
                sent = True
                response = await self._exchange(request, headers, name)
                if response.status == 401 and self.auth.refreshable:
                    response = await self._after_401(request, response, headers, name, limiter)
                if response.status >= 300 or response.status < 200:
                    raise self.provider.map_error(response, name)
                return op.parse(args, response)
            except RcsError as err:
                if sent and not op.idempotent and not isinstance(err, RateLimited | ConnectError):
                    raise  # it may have arrived: resending could deliver it twice
                wait = self.retry.delay(attempt, err, waited)
                obs.observe_failed_attempt(self.provider.name, err, wait)
                if wait is None:
                    raise
                log.info(
                    "%s %s: attempt %d failed (%s); retrying in %.2f s",
                    self.provider.name,
                    name,
                    attempt,
                    type(err).__name__,
                    wait,
                )
                await self._sleep(wait)
                waited += wait
                attempt += 1

    async def _after_401(
        self,
        request: HttpRequest,
        response: HttpResponse,
        headers: Mapping[str, str],
        name: str,
        limiter: RateLimiter | None,
    ) -> HttpResponse:
        """A 401 about the credentials: forget the token, get a new one, send once more."""
        error = self.provider.map_error(response, name)
        if not isinstance(error, AuthError):
            raise error
        log.info("%s %s: 401, refreshing the token once", self.provider.name, name)
        self.auth.invalidate(headers)
        headers = await self.auth.headers(self._send_token_request)
        if limiter is not None:
            await limiter.acquire()
        return await self._exchange(request, headers, name)

    async def _exchange(
        self, request: HttpRequest, headers: Mapping[str, str], name: str
    ) -> HttpResponse:
        headers = obs.with_traceparent(headers)
        if not log.isEnabledFor(logging.DEBUG):
            return await self.transport.send(request.with_headers(headers), self.timeout)
        started = time.perf_counter()
        response = await self.transport.send(request.with_headers(headers), self.timeout)
        log.debug(
            "%s %s: %s %s -> %d in %.1f ms",
            self.provider.name,
            name,
            request.method,
            request.url,
            response.status,
            (time.perf_counter() - started) * 1000,
        )
        return response


_CONTACT_CACHE = 4096
"""How many parsed recipients a client remembers (then it starts afresh)."""


def _new_id() -> str:
    return str(uuid.uuid4())


def _id(value: str, field: str = "message_id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidMessage([Violation(field, value, "a non-empty identifier is required")])
    return value


def _read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise InvalidMessage(
            [Violation("file", str(path), f"cannot be read ({err.strerror or type(err).__name__})")]
        ) from None


def _iso_or_none(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _guess_mime(name: str | None) -> str:
    guessed = mimetypes.guess_type(name or "")[0] if name else None
    if guessed is None:
        raise InvalidMessage(
            [Violation("mime_type", name, "cannot be guessed from the file name: give mime_type")]
        )
    return guessed


def _until(value: datetime | str | None) -> str:
    if isinstance(value, str):  # passed as given (the seeds' own examples omit the zone)
        if parse_rfc3339(value) is None and _iso_or_none(value) is None:
            raise InvalidMessage(
                [Violation("until", value, "a date-time like 2026-12-31T00:00:00Z (RFC 3339)")]
            )
        return value
    when = value if value is not None else datetime.now(UTC) + DEFAULT_FILE_VALIDITY
    if when.tzinfo is None:
        raise InvalidMessage([Violation("until", when, "datetime must be timezone-aware")])
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
