"""Orange RCS BotHub (its FAQ and API documentation at Orange Developer).

Two-layer authentication, both tokens cached and refreshed ahead of expiry independently,
one refresh at a time each:

1. **Orange Developer token**: ``POST {token_url}`` (``https://api.orange.com/oauth/v3/token``)
   with the ``Authorization`` header value the Orange Developer console shows for the app
   (``"Basic xxx"``, kept secret), ``Accept: application/json`` and the form body
   ``grant_type=client_credentials``; the answer ``{"access_token", "expires_in": "3600"}``
   (a string) lives one hour.
2. **GSMA access token**: an RS256 JWT built here with exactly the claims of seed 001
   (``iss`` = the bot id, ``scope`` = ``"Chatbot message"``, ``aud`` =
   ``https://api.orange.com/bothub/v1/gsma``, ``iat``, ``exp`` = ``iat + 3600``), signed with
   the bot's private key, is exchanged at ``POST {api}/auth?JWT%20token=<jwt>`` (the query
   parameter's name is literally ``JWT token``) with ``Authorization: Bearer <developer
   token>``; the answer ``{"accessToken", "expiresIn", "scope", "timeStamp", "tokenType"}``
   has string values.

API calls carry both tokens: ``AccessToken: <GSMA token>`` and ``Authorization: Bearer
<developer token>``. Under ``{api}`` (``https://api.orange.com/bothub/v1``):

- ``POST /bot/v1/{botId}/messages``: GSMA FNW.11 messages (and the ``isTyping`` indicator,
  sent the FNW.11 way through the same endpoint: inferred, Orange documents only messages);
- ``GET /bot/v1/{botId}/contactCapabilities?userContact=``: unitary capability check, which
  Orange "strongly limits" (very low frequency, testing only): rcskit logs a warning when it
  is called more than ``unitary_capabilities_per_minute`` times within a minute;
- ``POST`` then ``GET /bot/v2/{botId}/bulkContactCapabilities``: the asynchronous bulk check
  (at most 10 000 numbers), allowed only from 22:00 to 07:00 "CET". rcskit reads CET as
  Paris local time (``Europe/Paris``, CEST in summer) and refuses, before any request, with
  :class:`~rcskit.errors.OutsideAllowedWindow` carrying ``next_allowed`` (the next 22:00
  Paris time); a server 405 with Orange's window message maps to the same error.

**The bulk bodies are undocumented** (Orange's API reference is not public). rcskit posts
``{"users": [...]}``, keeps whatever the POST returns as an opaque
:class:`~rcskit.results.BulkJob` (raw JSON plus a best-effort ``job_id``), and reads the GET
answer on a best-effort basis (:func:`read_bulk_answer`): lists of reachable numbers,
per-number entries with a boolean, a capability list or a status word; numbers it cannot
settle are reported as ``unknown`` and the raw answer is always kept. Check ``raw`` against
a real account before relying on the parsed sets.

::

    config = OrangeConfig(
        "my-bot-id",
        authorization_header="Basic NWQ...==",        # from the Orange Developer console
        private_key=Path("bot.pem").read_text(),      # or the base64 body from the portal
    )
    async with RcsClient(config) as client:
        await client.send("+33612345678", "Hello, world")
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import partial
from time import monotonic
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from ..auth import (
    AccessToken,
    CachedToken,
    SendFn,
    load_rsa_private_key,
    parse_expires_in,
    parse_token_response,
    secret,
)
from ..errors import (
    AuthError,
    OutsideAllowedWindow,
    ProviderError,
    RateLimited,
    ServerError,
)
from ..formats import gsma
from ..limits import LIMITS
from ..results import BulkCapabilities, BulkJob
from ..transport import HttpRequest, HttpResponse, path_segment
from . import gsma_api
from .base import (
    BulkArgs,
    BulkJobOperations,
    CapabilitiesArgs,
    Operation,
    Provider,
    SendArgs,
    TypingArgs,
    error_details,
    provider_code,
)
from .registry import BulkCheck, ProviderSpec

__all__ = [
    "AUDIENCE",
    "BULK_BATCH",
    "DEFAULT_API_URL",
    "DEFAULT_TOKEN_URL",
    "JWT_LIFETIME",
    "JWT_SCOPE",
    "ORANGE_WINDOW",
    "SPEC",
    "WINDOW_MESSAGE",
    "BulkWindow",
    "CallCounter",
    "OrangeAuth",
    "OrangeConfig",
    "OrangeDeveloperToken",
    "OrangeGsmaToken",
    "build_bulk_result",
    "build_bulk_submit",
    "build_capabilities",
    "build_jwt",
    "build_send",
    "build_typing",
    "describe",
    "map_error",
    "parse_bulk_result",
    "parse_bulk_submit",
    "read_bulk_answer",
    "token_error",
]

log = logging.getLogger("rcskit.providers.orange")

NAME = "orange"
DEFAULT_TOKEN_URL = "https://api.orange.com/oauth/v3/token"
DEFAULT_API_URL = "https://api.orange.com/bothub/v1"
AUDIENCE = "https://api.orange.com/bothub/v1/gsma"
"""The JWT ``aud`` (seed 001): this literal value, whatever ``api_url`` is."""
JWT_SCOPE = "Chatbot message"
JWT_LIFETIME = 3600
"""Seconds between the JWT's ``iat`` and ``exp`` (seed 001: ``currentTime+3600s``)."""
WINDOW_MESSAGE = (
    "Execute those requests only on timeslots from 10 PM CET to 7 AM CET in order to NOT "
    "overload the whole business bandwidth during business hours."
)
"""Orange's 405 message outside the bulk window (seed 000)."""

_bulk_limit = LIMITS["bulk_capability_numbers"].value
BULK_BATCH: int = _bulk_limit if isinstance(_bulk_limit, int) else 10000
"""Most numbers in one bulk capability request (seed 000: "max 10K MSISDN")."""


_JSON = {"Content-Type": "application/json", "Accept": "application/json"}
_ACCEPT = {"Accept": "application/json"}


def _utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- the JWT


def build_jwt(bot_id: str, key: rsa.RSAPrivateKey, issued_at: int, audience: str = AUDIENCE) -> str:
    """The GSMA JWT of seed 001: header ``{"alg": "RS256", "typ": "JWT"}``, claims ``iss``
    (the bot id), ``scope`` ``"Chatbot message"``, ``aud``, ``exp`` = ``iat + 3600``, ``iat``."""
    claims = {
        "iss": bot_id,
        "scope": JWT_SCOPE,
        "aud": audience,
        "exp": issued_at + JWT_LIFETIME,
        "iat": issued_at,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT"})


# ---------------------------------------------------------------- the bulk window


@dataclass(frozen=True, slots=True)
class BulkWindow:
    """The daily window bulk checks are allowed in: ``start`` to ``end`` in ``zone``'s local
    time (``start > end`` crosses midnight). Orange's "10 PM CET to 7 AM CET" is read as
    Paris local time: 22:00 to 07:00 ``Europe/Paris`` (CEST in summer)."""

    start: time = time(22, 0)
    end: time = time(7, 0)
    zone: str = "Europe/Paris"

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("BulkWindow: start and end must differ")
        try:
            ZoneInfo(self.zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"BulkWindow.zone: unknown time zone {self.zone!r}") from None

    def contains(self, now: datetime) -> bool:
        """Whether ``now`` (an aware datetime) is inside the window (start included, end
        excluded)."""
        local = now.astimezone(ZoneInfo(self.zone)).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_start(self, now: datetime) -> datetime:
        """The first window start strictly after ``now``, in the window's zone."""
        tz = ZoneInfo(self.zone)
        day = now.astimezone(tz).date()
        start = datetime.combine(day, self.start, tzinfo=tz)
        if start <= now:
            start = datetime.combine(day + timedelta(days=1), self.start, tzinfo=tz)
        return start

    def describe(self) -> str:
        """``"22:00-07:00 Europe/Paris"``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone}"


ORANGE_WINDOW = BulkWindow()
"""Orange's bulk window: 22:00 to 07:00 Paris time (seed 000 "10 PM CET to 7 AM CET")."""


def _outside(window: BulkWindow, now: datetime, **kw: Any) -> OutsideAllowedWindow:
    nxt = window.next_start(now)
    return OutsideAllowedWindow(
        f"bulk capability checks are allowed only {window.describe()} local time; the next "
        f"window opens {nxt:%Y-%m-%d %H:%M %Z}",
        next_allowed=nxt,
        provider=NAME,
        **kw,
    )


# ---------------------------------------------------------------- unitary call counter


class CallCounter:
    """Counts calls over a sliding ``period`` and logs one warning per period once there are
    more than ``limit`` (Orange's unitary capability check is for testing only)."""

    def __init__(
        self, limit: int, period: float = 60.0, clock: Callable[[], float] = monotonic
    ) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._calls: deque[float] = deque()
        self._warned_at: float | None = None

    def record(self) -> int:
        """Count one call now; return the calls in the last ``period`` seconds."""
        now = self._clock()
        self._calls.append(now)
        while self._calls and self._calls[0] <= now - self.period:
            self._calls.popleft()
        count = len(self._calls)
        if count > self.limit and (self._warned_at is None or now - self._warned_at >= self.period):
            self._warned_at = now
            log.warning(
                "orange: %d unitary capability checks within %.0f s; Orange strongly limits "
                "contactCapabilities (low frequency, testing only): use bulk_capabilities "
                "(22:00-07:00 Paris time) for lists",
                count,
                self.period,
            )
        return count


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class OrangeConfig:
    """Credentials and URLs of an Orange BotHub bot.

    - ``authorization_header``: the Authorization header value the Orange Developer console
      shows for the app (``"Basic xxx"``; a bare ``xxx`` gets ``Basic`` prefixed);
    - ``private_key``: the bot private key, as PEM text or as the base64 body the onboarding
      portal gives (both load; a key that does not raises :class:`ValueError` naming the
      field);
    - ``unitary_capabilities_per_minute``: above this many unitary checks in a minute, a
      warning is logged;
    - ``bulk_window`` and ``enforce_bulk_window``: the allowed bulk window, checked before
      any request; ``bulk_poll_interval`` / ``bulk_max_wait`` pace the polling of a bulk job;
    - ``clock``: the wall clock (aware datetimes), used for the window and the JWT ``iat``;
      ``monotonic``: the clock of the unitary call counter. Both are injectable for tests.
    """

    bot_id: str
    authorization_header: SecretStr | str = field(repr=False)
    private_key: SecretStr | str | bytes = field(repr=False)
    token_url: str = DEFAULT_TOKEN_URL
    api_url: str = DEFAULT_API_URL
    audience: str = AUDIENCE
    unitary_capabilities_per_minute: int = 5
    bulk_window: BulkWindow = ORANGE_WINDOW
    enforce_bulk_window: bool = True
    bulk_poll_interval: float = 60.0
    bulk_max_wait: float = 3600.0
    clock: Callable[[], datetime] = field(default=_utc_now, repr=False, compare=False)
    monotonic: Callable[[], float] = field(default=monotonic, repr=False, compare=False)
    name: ClassVar[str] = NAME
    key: rsa.RSAPrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for label, url in (("token_url", self.token_url), ("api_url", self.api_url)):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"OrangeConfig.{label}: an http(s) URL is required, got {url!r}")
        if not self.bot_id:
            raise ValueError("OrangeConfig.bot_id is required")
        if self.unitary_capabilities_per_minute < 1:
            raise ValueError("OrangeConfig.unitary_capabilities_per_minute must be >= 1")
        if self.bulk_poll_interval <= 0 or self.bulk_max_wait < 0:
            raise ValueError("OrangeConfig: bulk_poll_interval > 0 and bulk_max_wait >= 0")
        header = secret(self.authorization_header)
        value = header.get_secret_value().strip()
        if not value:
            raise ValueError("OrangeConfig.authorization_header is required")
        if " " not in value:
            value = f"Basic {value}"
        object.__setattr__(self, "authorization_header", SecretStr(value))
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))
        object.__setattr__(
            self, "key", load_rsa_private_key(self.private_key, "OrangeConfig.private_key")
        )
        if isinstance(self.private_key, str):
            object.__setattr__(self, "private_key", SecretStr(self.private_key))

    @property
    def base(self) -> str:
        """``{api_url}/bot/v1/{botId}``."""
        return f"{self.api_url}/bot/v1/{path_segment(self.bot_id)}"

    @property
    def bulk_url(self) -> str:
        """``{api_url}/bot/v2/{botId}/bulkContactCapabilities``."""
        return f"{self.api_url}/bot/v2/{path_segment(self.bot_id)}/bulkContactCapabilities"

    def provider(self) -> Provider:
        """The Orange provider bound to these settings."""
        return describe(self)

    def auth(self) -> OrangeAuth:
        """Both token flows (Orange Developer, then GSMA), each with its own cache."""
        developer = OrangeDeveloperToken(self.token_url, self.authorization_header)
        return OrangeAuth(developer, OrangeGsmaToken(self, developer))


# ---------------------------------------------------------------- token flows


class OrangeDeveloperToken(CachedToken):
    """The Orange Developer OAuth 2.0 token: ``POST {token_url}`` with the console's
    Authorization header, ``Accept: application/json``, ``grant_type=client_credentials``."""

    def __init__(self, token_url: str, authorization_header: SecretStr | str, **kw: Any) -> None:
        super().__init__(provider=NAME, **kw)
        self.token_url = token_url
        self._authorization = secret(authorization_header)

    def __repr__(self) -> str:
        return f"OrangeDeveloperToken(token_url={self.token_url!r})"

    def token_request(self) -> HttpRequest:
        """The token request (pure; the Authorization header carries the secret)."""
        return HttpRequest(
            "POST",
            self.token_url,
            headers={
                "Authorization": self._authorization.get_secret_value(),
                "Accept": "application/json",
            },
            form={"grant_type": "client_credentials"},
        )

    async def fetch(self, send: SendFn) -> AccessToken:
        """Request a token; ``expires_in`` may be a string (``"3600"``)."""
        response = await send(self.token_request())
        if not response.ok:
            raise token_error(response, "Orange Developer token")
        return parse_token_response(response, NAME)


class OrangeGsmaToken(CachedToken):
    """The GSMA access token: a fresh JWT exchanged at ``POST {api}/auth?JWT%20token=``
    with the Orange Developer token; sent as the ``AccessToken`` header.

    A 401 on the exchange means the developer token was refused: it is renewed and the
    exchange tried once more.
    """

    def __init__(self, config: OrangeConfig, developer: OrangeDeveloperToken, **kw: Any) -> None:
        super().__init__(provider=NAME, **kw)
        self.config = config
        self.developer = developer

    def __repr__(self) -> str:
        return f"OrangeGsmaToken(bot_id={self.config.bot_id!r}, api_url={self.config.api_url!r})"

    def headers_for(self, token: str) -> dict[str, str]:
        """``{"AccessToken": token}``."""
        return {"AccessToken": token}

    def token_request(self, developer_headers: Mapping[str, str], assertion: str) -> HttpRequest:
        """The exchange request of seed 001 (empty form body, JWT in the query)."""
        return HttpRequest(
            "POST",
            f"{self.config.api_url}/auth",
            headers={
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                **developer_headers,
            },
            params={"JWT token": assertion},
            content=b"",
        )

    def assertion(self) -> str:
        """A new signed JWT, issued now (by the config's clock)."""
        issued = int(self.config.clock().timestamp())
        return build_jwt(self.config.bot_id, self.config.key, issued, self.config.audience)

    async def fetch(self, send: SendFn) -> AccessToken:
        """Exchange a new JWT for a GSMA access token."""
        for attempt in (1, 2):
            developer_headers = await self.developer.headers(send)
            response = await send(self.token_request(developer_headers, self.assertion()))
            if response.status == 401 and attempt == 1:
                self.developer.invalidate(developer_headers)
                continue
            break
        if not response.ok:
            raise token_error(response, "GSMA access token")
        body = response.json()
        token = body.get("accessToken") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                "GSMA token response has no accessToken",
                provider=NAME,
                status=response.status,
                raw=sorted(body) if isinstance(body, dict) else None,
            )
        return AccessToken(SecretStr(token), parse_expires_in(body.get("expiresIn")))


class OrangeAuth:
    """Both Orange tokens on every API request: ``Authorization: Bearer <developer token>``
    and ``AccessToken: <GSMA token>``. A 401 forgets both (the answer does not say which one
    was refused); each is then fetched again once."""

    refreshable = True

    def __init__(self, developer: OrangeDeveloperToken, gsma: OrangeGsmaToken) -> None:
        self.developer = developer
        self.gsma = gsma

    def __repr__(self) -> str:
        return f"OrangeAuth({self.developer!r}, {self.gsma!r})"

    async def headers(self, send: SendFn) -> dict[str, str]:
        """Both token headers (fetching whichever is missing or due)."""
        developer = await self.developer.headers(send)
        access = await self.gsma.headers(send)
        return {**developer, **access}

    def ready_headers(self) -> dict[str, str] | None:
        """Both token headers when both tokens are cached and good, else ``None``."""
        developer = self.developer.ready_headers()
        access = self.gsma.ready_headers()
        if developer is None or access is None:
            return None
        return {**developer, **access}

    def invalidate(self, used: Mapping[str, str]) -> None:
        """Forget the tokens in ``used`` (each only if it is still the cached one)."""
        self.developer.invalidate({"Authorization": used.get("Authorization", "")})
        self.gsma.invalidate({"AccessToken": used.get("AccessToken", "")})


# ---------------------------------------------------------------- request builders (pure)


def build_send(config: OrangeConfig, args: SendArgs) -> HttpRequest:
    """``POST {api}/bot/v1/{botId}/messages`` with the GSMA body (a reply's
    ``in_reply_to`` is the top-level ``msgId`` of seed 001's second example)."""
    return HttpRequest(
        "POST", f"{config.base}/messages", headers=_JSON, json=gsma.encode(args.message, args.to)
    )


def build_typing(config: OrangeConfig, args: TypingArgs) -> HttpRequest:
    """The FNW.11 ``isTyping`` message through ``/messages`` (inferred from the GSMA
    standard; Orange documents only messages)."""
    return gsma_api.build_typing(config.base, "messages", args).with_headers(_ACCEPT)


def build_capabilities(
    config: OrangeConfig, counter: CallCounter, args: CapabilitiesArgs
) -> HttpRequest:
    """``GET {api}/bot/v1/{botId}/contactCapabilities?userContact=+...``; counts the call
    (a warning is logged above ``unitary_capabilities_per_minute``)."""
    counter.record()
    return gsma_api.build_capabilities(config.base, args).with_headers(_ACCEPT)


def _check_window(config: OrangeConfig) -> None:
    if not config.enforce_bulk_window:
        return
    now = config.clock()
    if not config.bulk_window.contains(now):
        raise _outside(config.bulk_window, now)


def build_bulk_submit(config: OrangeConfig, args: BulkArgs) -> HttpRequest:
    """``POST {api}/bot/v2/{botId}/bulkContactCapabilities`` with ``{"users": [...]}`` (the
    body is undocumented: this is the Dotgo/Google shape). Outside the window this raises
    :class:`OutsideAllowedWindow` instead (no request at all)."""
    _check_window(config)
    return HttpRequest("POST", config.bulk_url, headers=_JSON, json={"users": list(args.numbers)})


def build_bulk_result(config: OrangeConfig, job: BulkJob) -> HttpRequest:
    """``GET {api}/bot/v2/{botId}/bulkContactCapabilities``: the result of the last bulk
    request (Orange documents no job id in this call, so none is sent). Window-checked."""
    _check_window(config)
    return HttpRequest("GET", config.bulk_url, headers=_ACCEPT)


# ---------------------------------------------------------------- response parsers (pure)

_JOB_ID_KEYS = ("requestId", "jobId", "bulkId", "id", "ticket", "correlationId")


def parse_bulk_submit(config: OrangeConfig, args: BulkArgs, response: HttpResponse) -> BulkJob:
    """The POST's answer as an opaque :class:`BulkJob` (its ``raw``), with a ``job_id``
    when one of the usual keys (``requestId``, ``jobId``, ``id`` ...) carries a string."""
    body = gsma_api.raw_body(response)
    job_id = None
    if isinstance(body, dict):
        job_id = next((body[k] for k in _JOB_ID_KEYS if isinstance(body.get(k), str)), None)
    return BulkJob(
        provider=NAME,
        numbers=args.numbers,
        job_id=job_id,
        submitted_at=config.clock(),
        raw=body,
    )


_PENDING = frozenset(
    {"pending", "in_progress", "inprogress", "processing", "running", "queued", "submitted"}
)
_REACHABLE_LISTS = ("rcsEnabledContacts", "reachableUsers", "rcsContacts", "reachable")
_ENTRY_LISTS = ("users", "contacts", "results", "contactCapabilities", "capabilities", "data")
_NUMBER_KEYS = ("userContact", "msisdn", "contact", "user", "phoneNumber", "number")
_BOOL_KEYS = ("rcsEnabled", "rcs_enabled", "reachable", "isRcs", "rcs", "capable", "enabled")
_YES = frozenset({"rcs", "enabled", "reachable", "true", "ok", "capable", "rcs_enabled"})
_NO = frozenset(
    {"not_rcs", "notrcs", "non_rcs", "disabled", "unreachable", "false", "not_found", "ko"}
)


def _status_word(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("status", "state", "jobStatus"):
            value = body.get(key)
            if isinstance(value, str):
                return value.strip().lower().replace(" ", "_")
    return None


def _e164(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    digits = re.sub(r"[^\d]", "", value)
    return f"+{digits}" if digits else None


def _verdict(entry: Mapping[str, Any]) -> bool | None:
    for key in _BOOL_KEYS:
        value = entry.get(key)
        if isinstance(value, bool):
            return value
    for key in ("capabilities", "features"):
        value = entry.get(key)
        if isinstance(value, list):
            return bool(value)
    word = _status_word(entry)
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def read_bulk_answer(
    body: Any, asked: tuple[str, ...]
) -> tuple[frozenset[str], frozenset[str], frozenset[str]] | None:
    """Best-effort reading of an undocumented bulk answer: ``(reachable, unreachable,
    unknown)`` among ``asked``, or ``None`` when it says the job is still running.

    Understood shapes: a status word (``PENDING``, ``IN_PROGRESS`` ...) means not ready; a
    list of reachable numbers (``rcsEnabledContacts``, ``reachableUsers`` ...) settles every
    number asked; a list of per-number objects (under ``users``, ``contacts``, ``results``
    ... or the body itself) settles each number it names, by a boolean (``rcsEnabled``,
    ``reachable`` ...), a capability list, or a status word. Anything else is ``unknown``.
    """
    if _status_word(body) in _PENDING:
        return None
    wanted = frozenset(asked)
    if isinstance(body, dict):
        for key in _REACHABLE_LISTS:
            listed = body.get(key)
            if isinstance(listed, list) and all(isinstance(n, str) for n in listed):
                yes = frozenset(n for n in (_e164(v) for v in listed) if n) & wanted
                return yes, wanted - yes, frozenset()
    entries: Any = body
    if isinstance(body, dict):
        entries = next((body[k] for k in _ENTRY_LISTS if isinstance(body.get(k), list)), [])
    yes_set: set[str] = set()
    no_set: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        number = next((_e164(entry.get(k)) for k in _NUMBER_KEYS if entry.get(k)), None)
        if number is None or number not in wanted:
            continue
        verdict = _verdict(entry)
        if verdict is True:
            yes_set.add(number)
        elif verdict is False:
            no_set.add(number)
    no_set -= yes_set
    return frozenset(yes_set), frozenset(no_set), wanted - yes_set - no_set


def parse_bulk_result(job: BulkJob, response: HttpResponse) -> BulkCapabilities | None:
    """The GET's answer: ``None`` while not ready (202, 204, or a pending status), else a
    :class:`BulkCapabilities` read by :func:`read_bulk_answer` with the raw answer kept."""
    if response.status in (202, 204):
        return None
    body = gsma_api.raw_body(response)
    sets = read_bulk_answer(body, job.numbers)
    if sets is None:
        return None
    reachable, unreachable, unknown = sets
    if unknown == frozenset(job.numbers) and job.numbers:
        log.warning(
            "orange: the bulk capability answer was not understood; every number is 'unknown' "
            "(see BulkCapabilities.raw)"
        )
    return BulkCapabilities(
        provider=NAME, reachable=reachable, unreachable=unreachable, unknown=unknown, raw=(body,)
    )


# ---------------------------------------------------------------- errors


def _is_window_refusal(text: str) -> bool:
    flat = " ".join(text.lower().split())
    return "from 10 pm cet to 7 am cet" in flat or "timeslots from 10 pm" in flat


def _details(response: HttpResponse) -> tuple[str, str | None, Any]:
    """Reason, code and raw body of an Orange answer: the gateway's ``{"code": 41,
    "message", "description"}`` or any shape :func:`error_details` reads."""
    body = response.json()
    raw = gsma_api.raw_body(response)
    if isinstance(body, dict) and isinstance(body.get("message"), str) and "code" in body:
        message = body["message"].strip()
        description = body.get("description")
        if isinstance(description, str) and description.strip():
            message = f"{message}: {description.strip()}"
        return message, provider_code(body.get("code"), response.status), raw
    message, code = error_details(body, response.text())
    return message, provider_code(code, response.status), raw


def token_error(response: HttpResponse, what: str) -> ProviderError:
    """A refused token request: 400, 401 and 403 are :class:`AuthError`, 429 (or gateway
    code 53) :class:`RateLimited`, 5xx :class:`ServerError`."""
    message, code, raw = _details(response)
    text = f"{what} request failed: {message or f'HTTP {response.status}'}"
    kw: dict[str, Any] = {"provider": NAME, "status": response.status, "code": code, "raw": raw}
    if response.status == 429 or code == "53":
        return RateLimited(text, retry_after=response.retry_after(), **kw)
    if response.status >= 500:
        return ServerError(text, **kw)
    if response.status in (400, 401, 403):
        return AuthError(text, **kw)
    return ProviderError(text, **kw)


def map_error(
    response: HttpResponse,
    operation: str,
    clock: Callable[[], datetime] = _utc_now,
    window: BulkWindow = ORANGE_WINDOW,
) -> ProviderError:
    """Orange's error answers as exceptions.

    A 405 carrying the window message of seed 000 is :class:`OutsideAllowedWindow` with
    ``next_allowed`` the next start of ``window`` (22:00 Paris time) after ``clock()``;
    gateway 401s (codes 40, 41, 42) and 403s (50-52) are :class:`AuthError`, code 53 or a
    429 :class:`RateLimited`;
    the rest follows :func:`rcskit.providers.gsma_api.classify` (404 on a send or capability
    check: :class:`~rcskit.errors.NotRcsCapable`).
    """
    message, code, raw = _details(response)
    status = response.status
    kw: dict[str, Any] = {"status": status, "code": code, "raw": raw}
    if status == 405 and _is_window_refusal(response.text()):
        return _outside(window, clock(), **kw)
    text = message or f"HTTP {status} on {operation}"
    if status == 429 or (code == "53" and status in (403, 429)):
        return RateLimited(text, retry_after=response.retry_after(), provider=NAME, **kw)
    if status == 403 and code in ("50", "51", "52"):
        return AuthError(text, provider=NAME, **kw)
    return gsma_api.classify(NAME, response, operation, text, code, raw)


# ---------------------------------------------------------------- the description


def describe(config: OrangeConfig) -> Provider:
    """The :class:`Provider` of Orange BotHub with ``config`` (a fresh unitary call counter)."""
    counter = CallCounter(config.unitary_capabilities_per_minute, 60.0, config.monotonic)
    return Provider(
        name=NAME,
        map_error=partial(map_error, clock=config.clock, window=config.bulk_window),
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id,
        send=Operation(
            partial(build_send, config), partial(gsma_api.parse_send, NAME), idempotent=False
        ),
        send_typing=Operation(
            partial(build_typing, config), gsma_api.parse_nothing, idempotent=False
        ),
        capabilities=Operation(
            partial(build_capabilities, config, counter), partial(gsma_api.parse_capabilities, NAME)
        ),
        bulk_job=BulkJobOperations(
            submit=Operation(
                partial(build_bulk_submit, config),
                partial(parse_bulk_submit, config),
                rate_group="bulk",
                batch_size=BULK_BATCH,
            ),
            result=Operation(
                partial(build_bulk_result, config), parse_bulk_result, rate_group=None
            ),
            poll_interval=config.bulk_poll_interval,
            max_wait=config.bulk_max_wait,
        ),
    )


SPEC = ProviderSpec(
    name=NAME,
    title="Orange RCS BotHub",
    config=OrangeConfig,
    limits_profile="orange",
    wire_format="gsma",
    operations=frozenset({"send", "send_typing", "capabilities", "bulk_capabilities"}),
    templates=False,
    webhook_format="orange",
    default_verifier=None,
    campaigns=True,
    dedupes_message_id=False,
    status_lookup=False,
    bulk_check=BulkCheck(
        10_000,
        window_start=BulkWindow().start,
        window_end=BulkWindow().end,
        window_zone=BulkWindow().zone,
        source="seed 000: POST /bot/v2/{botId}/bulkContactCapabilities, max 10K MSISDN, "
        "10 PM-7 AM CET only",
    ),
    emulator_flavour="orange",
)
"""Orange RCS BotHub.

Idempotency: seeds 000 and 001 document neither the send's response nor any handling of a
client message id (unverified): the safe values
``dedupes_message_id=False`` and ``status_lookup=False``. Webhooks: Orange documents no
signature (``default_verifier=None``). Bulk checks only 22:00-07:00 Paris time (seed 000)."""
