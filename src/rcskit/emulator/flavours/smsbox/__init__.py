"""The SMSBOX RCS API 2.x flavour (seed 004, providers.md section 1), under ``/smsbox``.

With the emulator at ``E`` a client uses ``E/smsbox`` where it would use
``https://api.rcsbox.net``. Every call is ``POST /rcs/1.0/json/{agentId}/<operation>`` with
``Authorization: App <API key>`` (the bot's ``api_key``) and a JSON body with ``recipients``:

==================  =========  =====================================================  ======
operation           max        body and effect                                        answer
==================  =========  =====================================================  ======
``message``         5000       ``contentMessage`` (Google ``AgentContentMessage``),   202
                               optional ``validity`` (1..10080 minutes)
``revoke``          5000       ``reference`` of a send; revokes undelivered copies    202
``add-testers``     10         adds testers                                           200
``capabilities``    500        per recipient: ``capabilities`` or unreachable         200
``event``           1          ``event: "READ"``: marks the user's messages read      202
==================  =========  =====================================================  ======

Answers are ``{"response": {"response_code", "response_desc"}, "details", "reference",
"recipients": [{"submitted", "rewrited", "state", "reason_code"}]}`` as providers.md section
1.4 shows (capabilities: no details or reference; each recipient adds ``capabilities``).
Numbers may be E.164 or French national ones (``0612345678``), which are rewritten
(``rewrited`` is the number without ``+``). Per-recipient states beyond the documented examples
are the emulator's: ``REFUSED`` with ``INVALID_NUMBER``, ``DUPLICATE``, ``NOT_A_TESTER``,
``OPTED_OUT``, ``NOT_FOUND`` or ``ALREADY_DELIVERED``; ``SUCCESS``/``ADDED`` for a new tester;
``FAILED``/``UNREACHABLE`` for a capability check of a number without RCS.

A send creates one message per accepted recipient, with the id ``<reference><number>``; its
statuses come back as ``status_update`` webhooks carrying the reference
(:mod:`rcskit.emulator.flavours.smsbox.webhooks`).

Errors (:mod:`rcskit.emulator.flavours.smsbox.errors`): 400 malformed body, bad ``validity``, bad
content or no valid recipient; 402 balance below the number of accepted recipients (the
bot's ``balance``); 403 unknown API key or deactivated account (SMSBOX has no 401); 404 agent
not found for this key, or unknown operation; 405 any method but POST; 413 too many
recipients; 429 throttled (undocumented); 503 injected server faults.
"""

from __future__ import annotations

import hmac
import secrets
import string
from typing import Any

import phonenumbers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...bodies.checks import WireError
from ...bodies.google import parse_google_send
from ...bodies.strict import check_strictly
from ...config import BotConfig
from ...core.delivery import accept, cancel, read_by_bot
from ...core.faults import inject
from ...core.phones import is_e164
from ...core.records import FMT_GOOGLE, P2A
from ...core.request_parts import BodyNotJson, note, read_json
from ...core.state import EmulatorState
from ...core.throttle import allow_per_second
from .. import Flavour
from .errors import SmsboxError, smsbox_error_body
from .webhooks import render_smsbox

__all__ = [
    "FLAVOUR",
    "MAX_RECIPIENTS",
    "MAX_VALIDITY_MINUTES",
    "MIN_VALIDITY_MINUTES",
    "normalise_number",
    "smsbox_routes",
]

MAX_RECIPIENTS = {
    "message": 5000,
    "revoke": 5000,
    "add-testers": 10,
    "capabilities": 500,
    "event": 1,
}
"""Recipients per request, by operation (providers.md section 1.3)."""
MIN_VALIDITY_MINUTES = 1
MAX_VALIDITY_MINUTES = 10_080

_ACCEPTED = {"response_code": "202", "response_desc": "Request successfully queued."}
_PROCESSED = {"response_code": "200", "response_desc": "Request successfully processed."}
_REFERENCE_ALPHABET = string.ascii_uppercase + string.digits


def normalise_number(raw: str) -> str | None:
    """``raw`` in E.164 (French national numbers are rewritten), or ``None`` if not a number."""
    if is_e164(raw):
        return raw
    try:
        parsed = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    number = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return number if is_e164(number) else None


def _entry(raw: str, number: str | None, state: str, reason: str) -> dict[str, Any]:
    rewritten = number[1:] if number else "".join(c for c in raw if c.isdigit())
    return {"submitted": raw, "rewrited": rewritten, "state": state, "reason_code": reason}


def _accepted(reference: str, entries: list[dict[str, Any]]) -> JSONResponse:
    """202: the request is queued, with what became of each recipient."""
    body = {
        "response": _ACCEPTED,
        "details": "Request accepted for processing.",
        "reference": reference,
        "recipients": entries,
    }
    return JSONResponse(body, status_code=202)


def _new_reference() -> str:
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(14))


def _recipients(body: Any, operation: str) -> list[tuple[str, str | None]]:
    """``(submitted, E.164 or None)`` for each recipient; 400 when none is a valid number."""
    recipients = body.get("recipients") if isinstance(body, dict) else None
    if not isinstance(recipients, list) or not recipients:
        raise SmsboxError(400, "recipients must be a non-empty array of phone numbers.")
    limit = MAX_RECIPIENTS[operation]
    if len(recipients) > limit:
        raise SmsboxError(413, f"Too many recipients (max.: {limit}).")
    if not all(isinstance(r, str) for r in recipients):
        raise SmsboxError(400, "recipients must be strings (phone numbers).")
    found = [(r, normalise_number(r)) for r in recipients]
    if all(number is None for _, number in found):
        raise SmsboxError(400, "No valid recipient found.")
    return found


def _validity(body: dict[str, Any], now: float) -> float | None:
    if "validity" not in body:
        return None
    value = body["validity"]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not MIN_VALIDITY_MINUTES <= value <= MAX_VALIDITY_MINUTES
    ):
        raise SmsboxError(
            400,
            f"validity {value!r} must be an integer number of minutes from "
            f"{MIN_VALIDITY_MINUTES} to {MAX_VALIDITY_MINUTES}.",
        )
    return now + value * 60


def _reachable(bot: BotConfig, number: str) -> bool:
    return bot.launched or number in bot.testers


def smsbox_routes(state: EmulatorState) -> list[BaseRoute]:
    """Every SMSBOX route, relative to ``/smsbox``."""

    def authorize(request: Request, agent_id: str) -> BotConfig:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        key = key.strip()
        owner: BotConfig | None = None
        if scheme.lower() == "app" and key:
            for bot in state.bots.values():
                expected = bot.api_key.get_secret_value() if bot.api_key is not None else None
                if (
                    bot.provider == "smsbox"
                    and expected is not None
                    and hmac.compare_digest(key.encode(), expected.encode())
                ):
                    owner = bot
                    break
        if owner is None or not owner.client_active:
            raise SmsboxError(403, "API Key not allowed or account discontinued.")
        agent = state.bot(agent_id)
        if agent is None or agent.provider != "smsbox" or agent.api_key != owner.api_key:
            raise SmsboxError(404, "Invalid RCSagentId value (not found).")
        note(request, bot_id=agent.id)
        return agent

    async def guard(bot: BotConfig) -> None:
        fault = await inject(state.faults[bot.id], bot.faults)
        if fault == "429":
            raise SmsboxError(429, "Too many requests.")
        if fault is not None:
            raise SmsboxError(503, "Request failed.")
        if not allow_per_second(state.counters_of(bot.id).group1, state.ts(), bot.tps):
            raise SmsboxError(429, f"Too many requests (max.: {bot.tps:g} per second).")

    def message(bot: BotConfig, body: dict[str, Any]) -> Response:
        found = _recipients(body, "message")
        try:
            content = {"contentMessage": body.get("contentMessage")}
            parsed = parse_google_send(content, state.ts())
            check_strictly(bot, "google", content, state.now())
        except WireError as exc:
            raise SmsboxError(400, f"contentMessage: {exc.message}") from None
        if parsed.kind == "template":
            raise SmsboxError(400, "contentMessage.templateMessage is not supported.")
        expire_at = _validity(body, state.ts())
        reference = _new_reference()
        entries, accepted, seen = [], [], set()
        for raw, number in found:
            target = state.phones.get(number) if number else None
            if number is None:
                entries.append(_entry(raw, None, "REFUSED", "INVALID_NUMBER"))
            elif number in seen:
                entries.append(_entry(raw, number, "REFUSED", "DUPLICATE"))
            elif not _reachable(bot, number):
                entries.append(_entry(raw, number, "REFUSED", "NOT_A_TESTER"))
            elif target is not None and target.opted_out_of(bot.id):
                entries.append(_entry(raw, number, "REFUSED", "OPTED_OUT"))
            else:
                accepted.append(number)
                entries.append(_entry(raw, number, "ACCEPTED", "PROCESSING"))
            if number is not None:
                seen.add(number)
        if bot.balance is not None and bot.balance < len(accepted):
            raise SmsboxError(402, "No credit or insufficient.")
        for number in accepted:
            accept(
                state,
                bot,
                number,
                fmt=FMT_GOOGLE,
                content=parsed.content,
                msg_id=f"{reference}{number}",
                expire_at=expire_at,
            )
        return _accepted(reference, entries)

    def revoke(bot: BotConfig, body: dict[str, Any]) -> Response:
        found = _recipients(body, "revoke")
        reference = body.get("reference")
        if not isinstance(reference, str) or not reference:
            raise SmsboxError(400, "reference (the reference of the message) is required.")
        entries = []
        for raw, number in found:
            msg = state.find_message(bot.id, f"{reference}{number}") if number else None
            if number is None:
                entries.append(_entry(raw, None, "REFUSED", "INVALID_NUMBER"))
            elif msg is None:
                entries.append(_entry(raw, number, "REFUSED", "NOT_FOUND"))
            elif cancel(state, msg):
                entries.append(_entry(raw, number, "ACCEPTED", "PROCESSING"))
            else:
                entries.append(_entry(raw, number, "REFUSED", "ALREADY_DELIVERED"))
        return _accepted(reference, entries)

    def add_testers(bot: BotConfig, body: dict[str, Any]) -> Response:
        entries, added = [], 0
        for raw, number in _recipients(body, "add-testers"):
            if number is None:
                entries.append(_entry(raw, None, "REFUSED", "INVALID_NUMBER"))
            elif number in bot.testers:
                entries.append(_entry(raw, number, "DELETED", "ALREADY_ADDED"))
            else:
                bot.testers = [*bot.testers, number]
                added += 1
                entries.append(_entry(raw, number, "SUCCESS", "ADDED"))
        details = (
            f"Request processed: {added} recipient(s) added."
            if added
            else "Request processed but no recipient to add."
        )
        return JSONResponse({"response": _PROCESSED, "details": details, "recipients": entries})

    def capabilities(bot: BotConfig, body: dict[str, Any]) -> Response:
        entries = []
        for raw, number in _recipients(body, "capabilities"):
            phone = state.phones.get(number) if number else None
            if number is None:
                entry = _entry(raw, None, "REFUSED", "INVALID_NUMBER")
                entry["capabilities"] = []
            elif phone is None or not phone.rcs or not _reachable(bot, number):
                entry = _entry(raw, number, "FAILED", "UNREACHABLE")
                entry["capabilities"] = []
            else:
                entry = _entry(raw, number, "SUCCESS", "REACHABLE")
                gsma = ["chatBotCommunication"] if "chatBotCommunication" in phone.features else []
                entry["capabilities"] = gsma + list(phone.google_features)
            entries.append(entry)
        return JSONResponse({"response": _PROCESSED, "recipients": entries})

    def event(bot: BotConfig, body: dict[str, Any]) -> Response:
        found = _recipients(body, "event")
        if body.get("event") != "READ":
            raise SmsboxError(400, f'event {body.get("event")!r} must be "READ".')
        entries = []
        for raw, number in found:
            if number is None:
                entries.append(_entry(raw, None, "REFUSED", "INVALID_NUMBER"))
                continue
            conv = state.conversations.get((bot.id, number))
            for msg in conv.messages if conv else []:
                if msg.direction == P2A and msg.displayed_at is None:
                    read_by_bot(state, msg)
            entries.append(_entry(raw, number, "ACCEPTED", "PROCESSING"))
        return _accepted(_new_reference(), entries)

    operations = {
        "message": message,
        "revoke": revoke,
        "add-testers": add_testers,
        "capabilities": capabilities,
        "event": event,
    }

    async def operation(request: Request) -> Response:
        try:
            if request.method != "POST":
                raise SmsboxError(405, "Invalid HTTP method.")
            bot = authorize(request, request.path_params["agent_id"])
            handler = operations.get(request.path_params["operation"])
            if handler is None:
                raise SmsboxError(404, f"Unknown operation {request.path_params['operation']!r}.")
            await guard(bot)
            try:
                body = await read_json(request)
            except BodyNotJson as exc:
                raise SmsboxError(400, str(exc)) from None
            if not isinstance(body, dict):
                raise SmsboxError(400, "The body must be a JSON object.")
            recipients = body.get("recipients")
            if isinstance(recipients, list) and len(recipients) == 1:
                number = normalise_number(recipients[0]) if isinstance(recipients[0], str) else None
                note(request, phone=number)
            return handler(bot, body)
        except SmsboxError as err:
            return JSONResponse(smsbox_error_body(err), status_code=err.status)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [Route("/rcs/1.0/json/{agent_id}/{operation}", operation, methods=methods)]


def _endpoints(base: str) -> list[tuple[str, str]]:
    return [("SMSBOX API (api.rcsbox.net)", f"{base}/smsbox")]


FLAVOUR = Flavour(
    name="smsbox",
    prefix="/smsbox",
    routes=smsbox_routes,
    renderers={"smsbox": render_smsbox},
    endpoints=_endpoints,
)
"""The SMSBOX flavour, as :func:`rcskit.emulator.app.create_app` mounts it."""
