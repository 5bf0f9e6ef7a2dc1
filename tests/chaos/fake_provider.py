"""A fake Dotgo GSMA platform for chaos tests: it enforces the rate rule, records arrivals,
and injects faults. Loopback only; run in-process (:func:`make_app`) or as a process::

    python -m tests.chaos.fake_provider --port P --tps 200 [--no-dedupe] [--no-status]
        [--rate-429 0.02] [--rate-5xx 0.02] [--rate-timeout 0.01] [--rate-lost 0.01]

The routes follow what ``rcskit``'s Dotgo client sends (``providers/dotgo.py``):

- ``POST /auth/oauth/token?grant_type=client_credentials`` (Basic auth): a bearer token.
- ``POST /rcs/bot/v1/{bot}/messages/async``: the send. Dotgo's rule (seed 002 section 6) is
  enforced on the requests it accepted: a request that would make any sliding 1 s hold more
  than ``floor(1.2 x tps)``, or any 30 s more than ``30 x tps``, gets ``429`` (code
  ``429-A``) with ``Retry-After``. The message id is ``RCSMessage.msgId`` when the client gave
  one, else a new UUID. With ``dedupe`` a repeated id is answered 202 again and recorded as
  ignored; without it every accepted request is a delivery (a repeat is a duplicate).
- ``GET /rcs/bot/v1/{bot}/messages/{msgId}/status``: 200 ``{"RCSMessage": {"msgId",
  "status": "sent", "timestamp"}}`` when the id was accepted, 404 when it never arrived; the
  route is absent when ``status_lookup`` is off.
- Faults, drawn per send request after the rule check: ``429`` (injected, with
  Retry-After), ``5xx`` (``500-A`` or ``502-A``; not accepted), ``timeout`` (no answer for
  ``timeout_s``, then the connection is cut; not accepted) and ``lost`` (accepted, then
  the connection is cut before the answer: the ambiguous case).
- ``GET /_chaos/report``: arrivals (server monotonic time of every send request, and whether
  it was accepted), deliveries per recipient and per id, duplicates, faults; the worst
  sliding 1 s and 30 s counts of all arrivals and of accepted ones.
- ``GET /_chaos/count``: the same counts, cheap enough to poll.
- ``POST /_chaos/faults``: replace the fault rates (JSON like the command-line options).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.chaos.windows import utilisation, worst_window

TOKEN = "chaos-token"


@dataclass
class Faults:
    """Shares of send requests answered with each fault (drawn independently, in order)."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    rate_lost: float = 0.0
    timeout_s: float = 5.0
    retry_after_s: float = 1.0


@dataclass
class Delivery:
    """One message the platform accepted."""

    msg_id: str
    to: str
    at: float


@dataclass
class Ledger:
    """Everything the fake platform saw (server monotonic times)."""

    arrivals: list[tuple[float, bool]] = field(default_factory=list)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    per_recipient: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    ignored: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    status_lookups: Counter[str] = field(default_factory=Counter)


class RuleWindow:
    """Accepted requests in the last ``span`` seconds, at most ``limit``."""

    def __init__(self, span: float, limit: int) -> None:
        self.span = span
        self.limit = limit
        self.times: deque[float] = deque()

    def full(self, now: float) -> float | None:
        """``None`` when one more fits now, else the seconds until one does."""
        while self.times and self.times[0] < now - self.span:
            self.times.popleft()
        if len(self.times) < self.limit:
            return None
        return self.times[0] + self.span - now

    def add(self, now: float) -> None:
        """Count one accepted request."""
        self.times.append(now)


class FakeDotgo:
    """The fake platform's state and behaviour (one bot, one account)."""

    def __init__(
        self,
        *,
        bot_id: str = "chaosbot",
        tps: float = 100.0,
        dedupe: bool = True,
        status_lookup: bool = True,
        faults: Faults | None = None,
        seed: int | None = None,
    ) -> None:
        self.bot_id = bot_id
        self.tps = tps
        self.dedupe = dedupe
        self.status_lookup = status_lookup
        self.faults = faults or Faults()
        self.rng = random.Random(seed)
        self.rules = [
            RuleWindow(1.0, math.floor(1.2 * tps)),
            RuleWindow(30.0, math.floor(30 * tps)),
        ]
        self.ledger = Ledger()

    # --- the rule and the faults (pure decisions over the state) --------------------

    def over_rule(self, now: float) -> float | None:
        """Seconds to wait when one more request would break the rule now, else ``None``."""
        waits = [w for w in (r.full(now) for r in self.rules) if w is not None]
        return max(waits) if waits else None

    def draw_fault(self) -> str | None:
        """The fault for this request, if any."""
        f = self.faults
        for name, rate in (
            ("429", f.rate_429),
            ("5xx", f.rate_5xx),
            ("timeout", f.rate_timeout),
            ("lost", f.rate_lost),
        ):
            if rate > 0 and self.rng.random() < rate:
                return name
        return None

    def accept(self, msg_id: str, to: str, now: float) -> None:
        """Record an accepted send (a delivery, or an ignored duplicate with ``dedupe``)."""
        ledger = self.ledger
        for rule in self.rules:
            rule.add(now)
        if msg_id in ledger.deliveries:
            if self.dedupe:
                ledger.ignored += 1
                return
            ledger.duplicates += 1
            ledger.per_recipient[to] += 1
            return
        ledger.deliveries[msg_id] = Delivery(msg_id, to, now)
        ledger.per_recipient[to] += 1

    def report(self) -> dict[str, Any]:
        """What the platform saw, with the worst sliding windows (see the module docstring)."""
        ledger = self.ledger
        every = [t for t, _ in ledger.arrivals]
        accepted = [t for t, ok in ledger.arrivals if ok]
        return {
            "tps": self.tps,
            "limit_1s": math.floor(1.2 * self.tps),
            "limit_30s": math.floor(30 * self.tps),
            "arrivals": every,
            "accepted": accepted,
            "worst_1s": worst_window(every, 1.0),
            "worst_30s": worst_window(every, 30.0),
            "worst_1s_accepted": worst_window(accepted, 1.0),
            "worst_30s_accepted": worst_window(accepted, 30.0),
            "utilisation_accepted": utilisation(accepted, self.tps),
            "deliveries": {k: asdict(v) for k, v in ledger.deliveries.items()},
            "per_recipient": dict(ledger.per_recipient),
            "duplicates": ledger.duplicates,
            "ignored": ledger.ignored,
            "faults": dict(ledger.faults),
            "throttled": ledger.throttled,
            "status_lookups": dict(ledger.status_lookups),
        }

    # --- HTTP ---------------------------------------------------------------------

    def _error(self, status: int, code: str, text: str, **headers: str) -> web.Response:
        body = {
            "RCSMessage": {"status": "failed", "timestamp": _stamp()},
            "reason": {"code": code, "text": text},
        }
        return web.json_response(body, status=status, headers=headers)

    async def token(self, request: web.Request) -> web.Response:
        """The client-credentials token (any Basic credentials)."""
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response(
            {"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600, "scope": "bot"}
        )

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def send(self, request: web.Request) -> web.StreamResponse:
        """``POST messages/async``: the rule, then the faults, then acceptance."""
        now = time.monotonic()
        ledger = self.ledger
        if not self._authorized(request):
            return self._error(401, "401-A", "invalid token")
        raw = await request.read()
        try:
            body = json.loads(raw)
            rcs = body["RCSMessage"]
            to = body["messageContact"]["userContact"]
        except (ValueError, KeyError, TypeError):
            ledger.arrivals.append((now, False))
            return self._error(400, "400-F", "malformed request body")
        msg_id = rcs.get("msgId") if isinstance(rcs, dict) else None
        if not (isinstance(msg_id, str) and msg_id):
            msg_id = str(uuid.uuid4())
        wait = self.over_rule(now)
        if wait is not None:
            ledger.arrivals.append((now, False))
            ledger.throttled += 1
            retry = str(max(1, math.ceil(wait)))
            return self._error(
                429,
                "429-A",
                "Number of API requests allowed per second exceeded. Please retry",
                **{"Retry-After": retry},
            )
        fault = self.draw_fault()
        if fault is not None:
            ledger.faults[fault] += 1
        if fault == "429":
            ledger.arrivals.append((now, False))
            return self._error(
                429,
                "429-A",
                "Too many requests",
                **{"Retry-After": f"{self.faults.retry_after_s:g}"},
            )
        if fault == "5xx":
            ledger.arrivals.append((now, False))
            # Dotgo's documented server errors (seed 002 section 7): 500-A and 502-A; its one
            # 503 code, 503-A, means curfew hours (a wait until they end), not a fault
            status = self.rng.choice((500, 502))
            return self._error(status, f"{status}-A", "injected server error")
        if fault == "timeout":
            # not accepted, and no answer: the connection is cut after ``timeout_s``
            ledger.arrivals.append((now, False))
            await asyncio.sleep(self.faults.timeout_s)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        ledger.arrivals.append((now, True))
        self.accept(msg_id, to, now)
        if fault == "lost":
            # accepted; the answer never arrives (the connection is cut)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        answer = json.dumps({"RCSMessage": {"msgId": msg_id, "status": "pending"}})
        return web.Response(body=answer.encode(), status=202, content_type="application/json")

    async def status(self, request: web.Request) -> web.Response:
        """``GET messages/{msgId}/status``: 200 when accepted, 404 when it never arrived."""
        if not self._authorized(request):
            return self._error(401, "401-A", "invalid token")
        msg_id = request.match_info["msg_id"]
        found = self.ledger.deliveries.get(msg_id)
        self.ledger.status_lookups["found" if found else "not_found"] += 1
        if found is None:
            return self._error(404, "404-B", "Message not found")
        return web.json_response(
            {"RCSMessage": {"msgId": msg_id, "status": "sent", "timestamp": _stamp()}}
        )

    async def get_report(self, request: web.Request) -> web.Response:
        """``GET /_chaos/report``."""
        return web.json_response(self.report())

    async def get_count(self, request: web.Request) -> web.Response:
        """``GET /_chaos/count``: arrivals, accepted requests and distinct deliveries so far."""
        ledger = self.ledger
        accepted = sum(1 for _, ok in ledger.arrivals if ok)
        return web.json_response(
            {
                "arrivals": len(ledger.arrivals),
                "accepted": accepted,
                "deliveries": len(ledger.deliveries),
            }
        )

    async def set_faults(self, request: web.Request) -> web.Response:
        """``POST /_chaos/faults`` with the fields of :class:`Faults`."""
        data = await request.json()
        self.faults = Faults(**{k: float(v) for k, v in data.items()})
        return web.json_response(asdict(self.faults))


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_app(platform: FakeDotgo) -> web.Application:
    """The aiohttp application serving ``platform``."""
    app = web.Application()
    base = f"/rcs/bot/v1/{platform.bot_id}"
    app.router.add_post("/auth/oauth/token", platform.token)
    app.router.add_post(f"{base}/messages/async", platform.send)
    if platform.status_lookup:
        app.router.add_get(f"{base}/messages/{{msg_id}}/status", platform.status)
    app.router.add_get("/_chaos/report", platform.get_report)
    app.router.add_get("/_chaos/count", platform.get_count)
    app.router.add_post("/_chaos/faults", platform.set_faults)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve a fake platform on 127.0.0.1 until killed."""
    p = argparse.ArgumentParser(description="fake Dotgo GSMA platform for chaos tests")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--bot-id", default="chaosbot")
    p.add_argument("--tps", type=float, default=100.0)
    p.add_argument("--no-dedupe", action="store_true")
    p.add_argument("--no-status", action="store_true")
    p.add_argument("--rate-429", type=float, default=0.0)
    p.add_argument("--rate-5xx", type=float, default=0.0)
    p.add_argument("--rate-timeout", type=float, default=0.0)
    p.add_argument("--rate-lost", type=float, default=0.0)
    p.add_argument("--timeout-s", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument(
        "--boost",
        action="store_true",
        help="ask for a higher CPU priority (nice -10) where allowed, so that a busy machine"
        " delays the platform's arrival stamps less; ignored without the permission",
    )
    a = p.parse_args(argv)
    if a.boost:
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, 0, -10)
    platform = FakeDotgo(
        bot_id=a.bot_id,
        tps=a.tps,
        dedupe=not a.no_dedupe,
        status_lookup=not a.no_status,
        faults=Faults(a.rate_429, a.rate_5xx, a.rate_timeout, a.rate_lost, a.timeout_s),
        seed=a.seed,
    )
    web.run_app(make_app(platform), host="127.0.0.1", port=a.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
