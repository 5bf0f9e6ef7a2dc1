"""Google RBM users: capabilities, ``users:batchGet`` and testers (google_rbm.md section 1).

- ``GET /v1/phones/{phone}/capabilities?requestId=&agentId=``: 200 ``{"features": [...]}``;
  404 ``{"error": {"code": 404, "message": "Requested entity was not found.", "status":
  "NOT_FOUND"}}`` when the number has no RCS or an unlaunched agent asks about a non-tester.
  ``requestId`` is required.
- ``POST /v1/users:batchGet`` with ``{"users": [...], "agentId"}`` (1 to
  :data:`MAX_BATCH_USERS` E.164 numbers, at most :data:`BATCH_QPM` calls a minute): 200
  ``{"reachableUsers", "totalRandomSampleUserCount", "reachableRandomSampleUserCount"}``.
  ``reachableUsers`` are the RCS numbers the agent may reach; with 500 numbers or more, a
  deterministic random sample of about 75 % is drawn and the RCS numbers in it counted
  (both counts are 0 below 500, as Google documents).
- ``POST /v1/phones/{phone}/testers?agentId=``: invites a tester; 200 ``{"name":
  "phones/{phone}/testers", "inviteStatus": "PENDING"}`` (``ACCEPTED`` for a number that is
  already a tester). The simulated user accepts at once. At most :data:`TESTER_INVITES_PER_DAY`
  invites a day and :data:`TESTER_INVITES_TOTAL` in all (429 RESOURCE_EXHAUSTED beyond).
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ...core.phones import is_e164
from ...core.state import EmulatorState
from ...core.throttle import SlidingWindow, allow_per_minute
from .auth import authorize, authorized_json_object, guard
from .errors import NOT_FOUND_MESSAGE, GoogleError
from .messages import phone_of

__all__ = [
    "BATCH_QPM",
    "MAX_BATCH_USERS",
    "SAMPLE_MINIMUM",
    "TESTER_INVITES_PER_DAY",
    "TESTER_INVITES_TOTAL",
    "batch_get",
    "capabilities",
    "invite_tester",
]

MAX_BATCH_USERS = 10_000
BATCH_QPM = 600
SAMPLE_MINIMUM = 500
SAMPLE_RATIO = 0.75
TESTER_INVITES_PER_DAY = 20
TESTER_INVITES_TOTAL = 200
_BATCH_WINDOWS = "google.batch_windows"
_INVITES = "google.tester_invites"


async def capabilities(state: EmulatorState, request: Request) -> Response:
    """``GET .../capabilities``."""
    bot = authorize(state, request, request.query_params.get("agentId"))
    await guard(state, bot)
    number = phone_of(request)
    if not request.query_params.get("requestId", "").strip():
        raise GoogleError(400, "requestId is required")
    phone = state.phones.get(number)
    if phone is None or not phone.rcs or not (bot.launched or number in bot.testers):
        raise GoogleError(404, NOT_FOUND_MESSAGE)
    return JSONResponse({"features": list(phone.google_features)})


def _in_sample(agent: str, number: str) -> bool:
    digest = hashlib.blake2b(f"{agent}|{number}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64 < SAMPLE_RATIO


async def batch_get(state: EmulatorState, request: Request) -> Response:
    """``POST /v1/users:batchGet``."""
    bot, body = await authorized_json_object(state, request)
    windows: dict[str, SlidingWindow] = state.extensions.setdefault(_BATCH_WINDOWS, {})
    if not allow_per_minute(windows.setdefault(bot.id, SlidingWindow(60)), state.ts(), BATCH_QPM):
        raise GoogleError(
            429, f"Quota exceeded: users.batchGet allows {BATCH_QPM} queries a minute."
        )
    users = body.get("users") if isinstance(body, dict) else None
    if not isinstance(users, list) or not users:
        raise GoogleError(400, "users must be a non-empty list of E.164 phone numbers")
    if len(users) > MAX_BATCH_USERS:
        raise GoogleError(400, f"users: {len(users)} numbers (max {MAX_BATCH_USERS})")
    for i, number in enumerate(users):
        if not is_e164(number):
            raise GoogleError(400, f"users[{i}] {number!r} is not an E.164 phone number")
    unique = list(dict.fromkeys(users))
    reachable = []
    for number in unique:
        phone = state.phones.get(number)
        if phone is not None and phone.rcs and (bot.launched or number in bot.testers):
            reachable.append(number)
    total = sampled_rcs = 0
    if len(unique) >= SAMPLE_MINIMUM:
        for number in unique:
            if _in_sample(bot.id, number):
                total += 1
                phone = state.phones.get(number)
                sampled_rcs += phone is not None and phone.rcs
    return JSONResponse(
        {
            "reachableUsers": reachable,
            "totalRandomSampleUserCount": total,
            "reachableRandomSampleUserCount": sampled_rcs,
        }
    )


async def invite_tester(state: EmulatorState, request: Request) -> Response:
    """``POST .../testers``."""
    bot = authorize(state, request, request.query_params.get("agentId"))
    await guard(state, bot)
    number = phone_of(request)
    name = f"phones/{number}/testers"
    if number in bot.testers:
        return JSONResponse({"name": name, "inviteStatus": "ACCEPTED"})
    invites: dict[str, list[float]] = state.extensions.setdefault(_INVITES, {})
    sent = invites.setdefault(bot.id, [])
    now = state.ts()
    if len(sent) >= TESTER_INVITES_TOTAL:
        raise GoogleError(429, f"An agent can send at most {TESTER_INVITES_TOTAL} tester requests.")
    if sum(1 for at in sent if now - at < 86_400) >= TESTER_INVITES_PER_DAY:
        raise GoogleError(
            429, f"An agent can send at most {TESTER_INVITES_PER_DAY} tester requests each day."
        )
    sent.append(now)
    bot.testers = [*bot.testers, number]
    return JSONResponse({"name": name, "inviteStatus": "PENDING"})
