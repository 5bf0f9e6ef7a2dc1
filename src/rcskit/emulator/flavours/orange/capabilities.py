"""Orange capability checks (seed 000): unitary (strongly limited) and bulk (night-time only).

Unitary: ``GET /bothub/v1/bot/v1/{botId}/contactCapabilities?userContact=+33...`` answers 200
``{"capabilities": [...]}`` (the GSMA tags, as FNW.11 aggregators do) or 404 (code 60) for a
number without RCS. It is limited to the bot's ``capability_tpm`` calls per minute (6 in the
default config; Orange gives no figure, only "strongly limited ... for testing purposes"):
beyond, 429 (code 53).

Bulk: Orange documents the two calls, the 10 000-number limit and the window, not the bodies.
The emulator's choice:

- ``POST /bothub/v1/bot/v2/{botId}/bulkContactCapabilities`` with ``{"users": ["+33...", ...]}``
  (1 to 10 000 E.164 numbers; duplicates counted once) answers 202
  ``{"requestId", "status": "PENDING", "usersCount"}``. The job completes
  :data:`BULK_PROCESSING_S` seconds later (platform clock).
- ``GET /bothub/v1/bot/v2/{botId}/bulkContactCapabilities`` (optionally ``?requestId=``; by
  default the bot's latest job) answers 200 ``{"requestId", "status": "PENDING" | "COMPLETED",
  "usersCount", "submittedAt", "completedAt", "results": [{"userContact", "rcsEnabled",
  "capabilities"}]}``; ``results`` is empty until the job completes; 404 (code 60) when the bot
  has no such job.
- Both answer HTTP 405 (code 61) with the seed's text as ``description`` outside
  22:00-07:00 Europe/Paris time (:mod:`rcskit.emulator.flavours.orange.window`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...config import BotConfig
from ...core.phones import is_e164
from ...core.state import EmulatorState
from ...core.throttle import SlidingWindow, allow_per_minute
from ..maap.send import capabilities, gsma_time
from .errors import OrangeError
from .window import WINDOW_MESSAGE, in_window

__all__ = [
    "BULK_EXTENSION",
    "BULK_PROCESSING_S",
    "MAX_BULK_USERS",
    "BulkJob",
    "bulk_result",
    "check_window",
    "submit_bulk",
    "unitary_capabilities",
]

MAX_BULK_USERS = 10_000
BULK_PROCESSING_S = 5.0
BULK_EXTENSION = "orange.bulk_jobs"
_WINDOWS = "orange.capability_windows"


@dataclass(slots=True)
class BulkJob:
    """One bulk capability request and, once processed, its per-number results."""

    request_id: str
    users: list[str]
    submitted_at: float
    completed_at: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The body of ``GET .../bulkContactCapabilities``."""
        return {
            "requestId": self.request_id,
            "status": "PENDING" if self.completed_at is None else "COMPLETED",
            "usersCount": len(self.users),
            "submittedAt": gsma_time(self.submitted_at),
            "completedAt": None if self.completed_at is None else gsma_time(self.completed_at),
            "results": self.results,
        }


def check_window(state: EmulatorState) -> None:
    """HTTP 405 with the seed's message outside 22:00-07:00 Paris time."""
    if not in_window(state.ts()):
        raise OrangeError(405, 61, "Method Not Allowed", WINDOW_MESSAGE)


def unitary_capabilities(state: EmulatorState, bot: BotConfig, number: str | None) -> list[str]:
    """The unitary check, after its per-minute limit; raises OrangeError."""
    windows: dict[str, SlidingWindow] = state.extensions.setdefault(_WINDOWS, {})
    window = windows.setdefault(bot.id, SlidingWindow(60))
    if not allow_per_minute(window, state.ts(), bot.capability_tpm):
        raise OrangeError(
            429,
            53,
            "Too many requests",
            f"unitary capability checks are limited to {bot.capability_tpm} per minute: "
            "use bulkContactCapabilities",
        )
    if not is_e164(number):
        raise OrangeError(
            400,
            28,
            "Invalid query-string parameter value",
            f"userContact {number!r} is not an E.164 number",
        )
    assert number is not None
    return capabilities(state, bot, number)


def _jobs(state: EmulatorState, bot: BotConfig) -> list[BulkJob]:
    jobs: dict[str, list[BulkJob]] = state.extensions.setdefault(BULK_EXTENSION, {})
    return jobs.setdefault(bot.id, [])


def _complete(state: EmulatorState, bot: BotConfig, job: BulkJob) -> None:
    results = []
    for number in job.users:
        phone = state.phones.get(number)
        reachable = phone is not None and phone.rcs and (bot.launched or number in bot.testers)
        features = list(phone.features) if reachable and phone is not None else []
        results.append({"userContact": number, "rcsEnabled": reachable, "capabilities": features})
    job.results = results
    job.completed_at = state.ts()


def submit_bulk(state: EmulatorState, bot: BotConfig, body: Any) -> BulkJob:
    """Start a bulk job from ``{"users": [...]}``; raises OrangeError for a bad body."""
    users = body.get("users") if isinstance(body, dict) else None
    if not isinstance(users, list) or not users:
        raise OrangeError(
            400, 25, "Invalid body field", "users must be a non-empty list of E.164 numbers"
        )
    if len(users) > MAX_BULK_USERS:
        raise OrangeError(
            400, 25, "Invalid body field", f"users: {len(users)} numbers (max {MAX_BULK_USERS})"
        )
    unique: list[str] = []
    seen: set[str] = set()
    for i, number in enumerate(users):
        if not is_e164(number):
            raise OrangeError(
                400, 25, "Invalid body field", f"users[{i}] {number!r} is not an E.164 number"
            )
        if number not in seen:
            seen.add(number)
            unique.append(number)
    job = BulkJob(state.new_id(), unique, state.ts())
    _jobs(state, bot).append(job)
    state.scheduler.after(BULK_PROCESSING_S, lambda: _complete(state, bot, job))
    return job


def bulk_result(state: EmulatorState, bot: BotConfig, request_id: str | None) -> BulkJob:
    """The bot's job ``request_id`` (its latest when ``None``); 404 when there is none."""
    jobs = _jobs(state, bot)
    if request_id is None and jobs:
        return jobs[-1]
    for job in jobs:
        if job.request_id == request_id:
            return job
    wanted = "any bulk capability request" if request_id is None else f"request {request_id!r}"
    raise OrangeError(404, 60, "Resource not found", f"bot {bot.id} has no {wanted}")
