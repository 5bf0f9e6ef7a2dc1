"""SMSBOX RCS API 2.x (its public API documentation, version 2.1.0).

Every call is ``POST {base_url}/rcs/1.0/json/{agentId}/<operation>`` with a JSON body and
the header ``Authorization: App <API key>``; ``base_url`` defaults to
``https://api.rcsbox.net`` (the server of SMSBOX's OpenAPI document; the seed gives none):

- ``message``: one message to up to 5000 ``recipients`` (:meth:`RcsClient.send_many
  <rcskit.client.RcsClient.send_many>`; ``send`` is the same call with one recipient).
  ``contentMessage`` is Google RBM's ``AgentContentMessage``
  (``rcskit.formats.google.encode(message)["contentMessage"]``); ``validity`` is in whole
  minutes, 1 to 10080 (7 days), from ``validity_minutes``, else the message's ``ttl``,
  else the config's ``default_validity_minutes``. 202 with ``reference``, the id of the
  whole send (the key of a revoke and of ``status_update`` webhooks);
- ``revoke``: ``{"recipients", "reference"}``;
- ``add-testers``: at most 10 numbers per call;
- ``capabilities``: at most 500 numbers per call (bulk lists are split by the client and
  merged); each listed recipient has a ``state``, a ``reason_code`` and, when reachable,
  ``capabilities``;
- ``event``: ``{"recipients": [one number], "event": "READ"}``. SMSBOX's READ event names
  no message: it marks the user's conversation read (the message id given to
  ``mark_read`` is not sent).

SMSBOX assigns message ids (``reference``), so sends are not idempotent and a message's
own ``message_id`` is not sent. Only the example values of ``state`` (``ACCEPTED``,
``DELETED``, ``SUCCESS``) and ``reason_code`` (``PROCESSING``, ``ALREADY_ADDED``,
``REACHABLE``) are documented: they are kept as open strings. Errors have the body
``{"response": {"response_code", "response_desc"}, "error"}``; a bad key is 403 (no 401).

::

    config = SmsboxConfig("my-agent-id", api_key="...")
    async with RcsClient(config) as client:
        sent = await client.send_many(["+33612345678", "+33612345679"], "hi", validity_minutes=720)
        print(sent.message_id)          # the SMSBOX reference
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import SecretStr

from .. import limits
from ..auth import Auth, StaticToken, secret
from ..errors import (
    AuthError,
    InvalidMessage,
    NotFound,
    ProviderError,
    RateLimited,
    ServerError,
    UnsupportedFeature,
    Violation,
)
from ..formats import google
from ..message import Contact, ttl_seconds
from ..results import (
    BulkCapabilities,
    Capabilities,
    RevokeResult,
    SendManyResult,
    SendResult,
    TesterResult,
)
from ..transport import HttpRequest, HttpResponse, path_segment
from . import gsma_api
from .base import (
    BulkArgs,
    CapabilitiesArgs,
    Operation,
    Provider,
    ReadArgs,
    RevokeArgs,
    SendArgs,
    SendManyArgs,
    TesterArgs,
    error_details,
    provider_code,
)
from .registry import BulkCheck, ProviderSpec

if TYPE_CHECKING:
    from ..inbound.verify import Verifier

__all__ = [
    "CAPABILITIES_BATCH",
    "DEFAULT_BASE_URL",
    "SEND_BATCH",
    "SPEC",
    "TESTERS_BATCH",
    "SmsboxConfig",
    "build_add_testers",
    "build_capabilities",
    "build_mark_read",
    "build_revoke",
    "build_send_many",
    "describe",
    "map_error",
    "parse_bulk_capabilities",
    "parse_capabilities",
    "parse_send",
    "parse_send_many",
    "validity_of",
]

NAME = "smsbox"
DEFAULT_BASE_URL = "https://api.rcsbox.net"
API_PATH = "/rcs/1.0/json"


def _limit(name: str) -> int:
    value = limits.LIMITS[name].value
    if not isinstance(value, int):
        raise TypeError(f"limit {name} is not an int")
    return value


SEND_BATCH = _limit("smsbox_recipients_per_send")
"""Most recipients of one ``message`` call (seed 004: 5000)."""
TESTERS_BATCH = _limit("smsbox_testers_per_call")
"""Most numbers of one ``add-testers`` call (seed 004: 10)."""
CAPABILITIES_BATCH = _limit("smsbox_capability_numbers_per_call")
"""Most numbers of one ``capabilities`` call (seed 004: 500)."""


_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class SmsboxConfig:
    """An SMSBOX RBM agent and its API key.

    ``default_validity_minutes`` applies when neither the call nor the message sets one
    (``None``: SMSBOX's own default). ``file_style`` and ``drop_metadata`` are passed to
    the Google encoder that builds ``contentMessage``.
    """

    agent_id: str
    api_key: SecretStr | str = field(repr=False)
    base_url: str = DEFAULT_BASE_URL
    default_validity_minutes: int | None = None
    file_style: google.FileStyle = "fileName"
    drop_metadata: bool = False
    name: ClassVar[str] = NAME

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"SmsboxConfig.base_url: an http(s) URL is required, got {self.base_url!r}"
            )
        if not self.agent_id:
            raise ValueError("SmsboxConfig.agent_id is required")
        if self.default_validity_minutes is not None:
            found = limits.check_validity_minutes(self.default_validity_minutes)
            if found:
                raise ValueError(f"SmsboxConfig.default_validity_minutes: {found[0]}")
        key = secret(self.api_key)
        if not key.get_secret_value().strip():
            raise ValueError("SmsboxConfig.api_key is required")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        object.__setattr__(self, "api_key", key)

    @property
    def base(self) -> str:
        """``{base_url}/rcs/1.0/json/{agentId}``."""
        return f"{self.base_url}{API_PATH}/{path_segment(self.agent_id)}"

    def provider(self) -> Provider:
        """The SMSBOX provider bound to these settings."""
        return describe(self)

    def auth(self) -> Auth:
        """``Authorization: App <API key>``."""
        return StaticToken(self.api_key, scheme="App")


def describe(config: SmsboxConfig) -> Provider:
    """The :class:`Provider` of SMSBOX with ``config``."""
    return Provider(
        name=NAME,
        map_error=map_error,
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id,
        send=Operation(partial(build_send, config), parse_send, idempotent=False),
        send_many=Operation(
            partial(build_send_many, config),
            parse_send_many,
            idempotent=False,
            batch_size=SEND_BATCH,
        ),
        mark_read=Operation(
            partial(build_mark_read, config), gsma_api.parse_nothing, rate_group=None
        ),
        revoke=Operation(partial(build_revoke, config), parse_revoke),
        capabilities=Operation(partial(build_capabilities, config), parse_capabilities),
        bulk_capabilities=Operation(
            partial(build_bulk_capabilities, config),
            parse_bulk_capabilities,
            rate_group="bulk",
            batch_size=CAPABILITIES_BATCH,
        ),
        add_tester=Operation(partial(build_add_tester, config), parse_add_tester, rate_group=None),
    )


# ---------------------------------------------------------------- request builders (pure)


def _numbers(contacts: tuple[Contact, ...], field_name: str) -> list[str]:
    out = []
    for i, contact in enumerate(contacts):
        if contact.msisdn is None:
            raise InvalidMessage(
                [Violation(f"{field_name}[{i}]", str(contact), "SMSBOX addresses phone numbers")]
            )
        out.append(contact.msisdn)
    return out


def _check_count(numbers: list[str], operation: str) -> None:
    found = limits.check_recipients(NAME, numbers, operation)
    if found:
        raise InvalidMessage(found)


def _post(config: SmsboxConfig, operation: str, body: dict[str, Any]) -> HttpRequest:
    return HttpRequest("POST", f"{config.base}/{operation}", headers=_JSON, json=body)


def validity_of(config: SmsboxConfig, args: SendManyArgs) -> int | None:
    """The ``validity`` (minutes) of a send: ``validity_minutes``, else the message's
    ``ttl`` (whole minutes only), else the config's default; checked against 1..10080."""
    message = args.message
    if message.expire_time is not None:
        raise UnsupportedFeature(
            "Message.expire_time",
            NAME,
            "SMSBOX takes a validity in minutes: set ttl or validity_minutes",
        )
    value: int | None
    if args.validity_minutes is not None:
        value = args.validity_minutes
    elif message.ttl is not None:
        seconds = ttl_seconds(message.ttl)
        if seconds is None or seconds % 60:
            raise InvalidMessage(
                [Violation("ttl", message.ttl, "SMSBOX takes a validity in whole minutes")]
            )
        value = int(seconds // 60)
        found = limits.check_validity_minutes(value)
        if found:
            raise InvalidMessage([Violation("ttl", message.ttl, f"validity {found[0].limit}")])
    else:
        value = config.default_validity_minutes
    if value is not None:
        found = limits.check_validity_minutes(value)
        if found:
            raise InvalidMessage(found)
    return value


def build_send_many(config: SmsboxConfig, args: SendManyArgs) -> HttpRequest:
    """``POST .../message`` with ``recipients``, ``contentMessage`` and ``validity``.

    Raises before any call: more than 5000 recipients, a validity outside 1..10080
    minutes, a ``traffic_type`` or ``expire_time`` (SMSBOX has no field for them), or
    anything the Google format cannot carry.
    """
    numbers = _numbers(args.recipients, "recipients")
    _check_count(numbers, "send")
    if args.message.traffic_type is not None:
        raise UnsupportedFeature(
            "Message.traffic_type", NAME, "the SMSBOX message call has no traffic type field"
        )
    validity = validity_of(config, args)
    encoded = google.encode(
        args.message.model_copy(update={"ttl": None}),
        file_style=config.file_style,
        drop_metadata=config.drop_metadata,
    )
    body: dict[str, Any] = {"recipients": numbers, "contentMessage": encoded["contentMessage"]}
    if validity is not None:
        body["validity"] = validity
    return _post(config, "message", body)


def build_send(config: SmsboxConfig, args: SendArgs) -> HttpRequest:
    """:func:`build_send_many` with the one recipient ``args.to``."""
    return build_send_many(config, SendManyArgs((args.to,), args.message))


def build_revoke(config: SmsboxConfig, args: RevokeArgs) -> HttpRequest:
    """``POST .../revoke`` with ``{"recipients": [to], "reference": message_id}``."""
    to = gsma_api.contact_for(args.to, NAME, "revoke")
    return _post(
        config, "revoke", {"recipients": _numbers((to,), "to"), "reference": args.message_id}
    )


def build_mark_read(config: SmsboxConfig, args: ReadArgs) -> HttpRequest:
    """``POST .../event`` with ``{"recipients": [to], "event": "READ"}`` (no message id:
    SMSBOX's READ event applies to the user's conversation)."""
    to = gsma_api.contact_for(args.to, NAME, "mark_read")
    return _post(config, "event", {"recipients": _numbers((to,), "to"), "event": "READ"})


def build_add_testers(config: SmsboxConfig, contacts: tuple[Contact, ...]) -> HttpRequest:
    """``POST .../add-testers`` with ``{"recipients": [...]}`` (at most 10)."""
    numbers = _numbers(contacts, "recipients")
    _check_count(numbers, "testers")
    return _post(config, "add-testers", {"recipients": numbers})


def build_add_tester(config: SmsboxConfig, args: TesterArgs) -> HttpRequest:
    """:func:`build_add_testers` with one number."""
    return build_add_testers(config, (args.contact,))


def build_capabilities(config: SmsboxConfig, args: CapabilitiesArgs) -> HttpRequest:
    """``POST .../capabilities`` with one number."""
    return _post(config, "capabilities", {"recipients": _numbers((args.contact,), "number")})


def build_bulk_capabilities(config: SmsboxConfig, args: BulkArgs) -> HttpRequest:
    """``POST .../capabilities`` with up to 500 numbers."""
    numbers = list(args.numbers)
    _check_count(numbers, "capabilities")
    return _post(config, "capabilities", {"recipients": numbers})


# ---------------------------------------------------------------- response parsers (pure)


def _object(response: HttpResponse) -> dict[str, Any]:
    body = response.json()
    return body if isinstance(body, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    listed = body.get("recipients")
    return [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []


def _number_of(entry: dict[str, Any]) -> str | None:
    """The recipient an entry is about: ``submitted`` as sent, else ``+`` and ``rewrited``."""
    submitted = _str(entry.get("submitted"))
    if submitted:
        return submitted
    rewritten = _str(entry.get("rewrited"))
    return f"+{rewritten.lstrip('+')}" if rewritten else None


def parse_send_many(args: SendManyArgs, response: HttpResponse) -> SendManyResult:
    """202 ``{"response", "details", "reference", "recipients": [{"submitted", "rewrited",
    "state", "reason_code"}]}``: one :class:`SendResult` per listed recipient (``status``
    is the ``state`` in lower case, ``detail`` the ``reason_code``)."""
    body = _object(response)
    reference = _str(body.get("reference"))
    results = tuple(
        SendResult(
            provider=NAME,
            message_id=reference,
            status=(_str(e.get("state")) or "").lower() or None,
            to=_number_of(e),
            detail=_str(e.get("reason_code")),
            raw=e,
        )
        for e in _entries(body)
    )
    return SendManyResult(provider=NAME, message_id=reference, results=results, raw=body or None)


def parse_send(args: SendArgs, response: HttpResponse) -> SendResult:
    """The one recipient's result of :func:`parse_send_many` (``pending`` when the answer
    lists no recipient), with the whole body as ``raw``."""
    many = parse_send_many(SendManyArgs((args.to,), args.message), response)
    mine = many.result_for(str(args.to)) or (many.results[0] if many.results else None)
    return SendResult(
        provider=NAME,
        message_id=many.message_id,
        status=mine.status if mine is not None else "pending",
        to=str(args.to),
        detail=mine.detail if mine is not None else None,
        raw=many.raw,
    )


def parse_revoke(args: RevokeArgs, response: HttpResponse) -> RevokeResult:
    """202: the revocation is queued, unless the answer lists recipients and none of them
    is ``ACCEPTED`` (e.g. ``REFUSED`` / ``ALREADY_DELIVERED``): then ``accepted`` is false."""
    entries = _entries(_object(response))
    accepted = not entries or any(
        (_str(e.get("state")) or "").upper() == "ACCEPTED" for e in entries
    )
    return RevokeResult(
        provider=NAME, message_id=args.message_id, accepted=accepted, raw=response.json()
    )


def parse_add_tester(args: TesterArgs, response: HttpResponse) -> TesterResult:
    """200 with the number's ``state`` and ``reason_code`` (``DELETED`` /
    ``ALREADY_ADDED`` for a number that already was a tester)."""
    body = _object(response)
    entries = _entries(body)
    mine = next((e for e in entries if _number_of(e) == str(args.contact)), None)
    mine = mine or (entries[0] if entries else {})
    return TesterResult(
        provider=NAME,
        number=str(args.contact),
        status=_str(mine.get("state")),
        detail=_str(mine.get("reason_code")) or _str(body.get("details")),
        raw=body or None,
    )


def _reachable(entry: dict[str, Any]) -> bool:
    """``reason_code`` ``REACHABLE`` (or, without a reason, ``state`` ``SUCCESS`` with a
    capability list): the only reachable answer SMSBOX documents."""
    reason = (_str(entry.get("reason_code")) or "").upper()
    if reason:
        return reason == "REACHABLE"
    caps = entry.get("capabilities")
    state = (_str(entry.get("state")) or "").upper()
    return state == "SUCCESS" and isinstance(caps, list) and bool(caps)


def _features(entry: dict[str, Any]) -> frozenset[str]:
    caps = entry.get("capabilities")
    return (
        frozenset(c for c in caps if isinstance(c, str)) if isinstance(caps, list) else frozenset()
    )


def parse_capabilities(args: CapabilitiesArgs, response: HttpResponse) -> Capabilities:
    """200 ``{"recipients": [{"state", "reason_code", "capabilities"}]}`` for one number."""
    body = _object(response)
    number = str(args.contact)
    entries = _entries(body)
    mine = next((e for e in entries if _number_of(e) == number), None)
    if mine is None and len(entries) == 1:
        mine = entries[0]
    if mine is None:
        raise ProviderError(
            f"capability answer does not list {number}",
            provider=NAME,
            status=response.status,
            raw=body,
        )
    reachable = _reachable(mine)
    return Capabilities(
        provider=NAME,
        number=number,
        rcs_enabled=reachable,
        features=_features(mine) if reachable else frozenset(),
        raw=body,
    )


def parse_bulk_capabilities(args: BulkArgs, response: HttpResponse) -> BulkCapabilities:
    """The capability answer for a list: each listed number is reachable or not; numbers
    the answer leaves out are ``unknown``."""
    body = _object(response)
    asked = frozenset(args.numbers)
    yes: set[str] = set()
    no: set[str] = set()
    for entry in _entries(body):
        number = _number_of(entry)
        if number in asked:
            (yes if _reachable(entry) else no).add(number)
    no -= yes
    return BulkCapabilities(
        provider=NAME,
        reachable=frozenset(yes),
        unreachable=frozenset(no),
        unknown=asked - yes - no,
        raw=(body,),
    )


# ---------------------------------------------------------------- errors


def map_error(response: HttpResponse, operation: str) -> ProviderError:
    """SMSBOX's ``{"response": {"response_code", "response_desc"}, "error"}`` answers.

    403 (key refused, account discontinued) is :class:`AuthError`; 404 (unknown agent id)
    :class:`NotFound` (not a user problem); 402 (no credit), 400, 405 and 413 are
    :class:`ProviderError`; 429 :class:`RateLimited`; 5xx :class:`ServerError`.
    """
    body = response.json()
    status = response.status
    raw = gsma_api.raw_body(response)
    message: str | None = None
    code: Any = None
    if isinstance(body, dict) and ("response" in body or "error" in body):
        head = body.get("response")
        head = head if isinstance(head, dict) else {}
        error = _str(body.get("error"))
        desc = _str(head.get("response_desc"))
        message = f"{error} ({desc})" if error and desc else error or desc
        code = head.get("response_code")
    if not message:
        message, code = error_details(body, response.text())
    text = (message or "").strip() or f"HTTP {status} on {operation}"
    kw: dict[str, Any] = {
        "provider": NAME,
        "status": status,
        "code": provider_code(code, status),
        "raw": raw,
    }
    if status in (401, 403):
        return AuthError(text, **kw)
    if status == 404:
        return NotFound(text, **kw)
    if status == 429:
        return RateLimited(text, retry_after=response.retry_after(), **kw)
    if status >= 500:
        return ServerError(text, **kw)
    return ProviderError(text, **kw)


def _ip_verifier(*, forwarded_for: bool = False) -> Verifier:
    """SMSBOX's documented webhook source addresses (:data:`SMSBOX_WEBHOOK_IPS`)."""
    from ..inbound.verify import SMSBOX_WEBHOOK_IPS, IpAllowList

    return IpAllowList(SMSBOX_WEBHOOK_IPS, forwarded_for=forwarded_for)


SPEC = ProviderSpec(
    name=NAME,
    title="SMSBOX",
    config=SmsboxConfig,
    limits_profile="smsbox",
    wire_format="google",
    operations=frozenset(
        {
            "send",
            "send_many",
            "mark_read",
            "revoke",
            "capabilities",
            "bulk_capabilities",
            "add_tester",
        }
    ),
    templates=False,
    webhook_format="smsbox",
    webhook_json_documented=True,  # SMSBOX's OpenAPI ``webhooks``
    default_verifier=_ip_verifier,
    campaigns=True,
    dedupes_message_id=False,
    status_lookup=False,
    bulk_check=BulkCheck(
        500, source="seed 004: Capabilities 'Perform a check', recipients <= 500 items"
    ),
    emulator_flavour="smsbox",
)
"""SMSBOX.

Idempotency: the platform assigns the message ids (seed 004, send response) and documents no
de-duplication nor a status request: ``dedupes_message_id=False``, ``status_lookup=False``.
Webhooks carry no signature; only their source addresses are documented (seed 004)."""
