"""The small request bodies that are not messages: status updates, agent events, bulk lists.

``rcskit validate`` checks these too, so every request body of the seeds can be validated:
GSMA ``{"RCSMessage": {"status": "displayed" | "cancelled"}}`` (read receipt / revoke, seed 002
2.2.4-2.2.5), Google agent events ``{"eventType": "READ" | "IS_TYPING", "messageId"?}`` (seed
002 3.3), the bulk capability list ``{"users": [...]}`` (seed 002 2.6, at most 10 000) and the
Google revoke body ``{"conversationId": ...}`` (seed 002 3.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import InvalidMessage, Violation
from ..phones import normalize_msisdn

__all__ = ["BULK_CAPABILITY_MAX", "body_kind", "check_body"]

BULK_CAPABILITY_MAX = 10_000  # seed 002 section 2.6: "up to 10,000 phone numbers"
_STATUSES = ("displayed", "cancelled")
_EVENTS = ("READ", "IS_TYPING")


def body_kind(body: Any) -> str | None:
    """Name the kind of a non-message request body, or ``None`` if it is not one of them."""
    if not isinstance(body, Mapping):
        return None
    rcs = body.get("RCSMessage")
    if set(body) == {"RCSMessage"} and isinstance(rcs, Mapping) and set(rcs) == {"status"}:
        return "gsma status update"
    if "eventType" in body:
        return "google agent event"
    if set(body) == {"users"}:
        return "bulk capability request"
    if set(body) == {"conversationId"}:
        return "google revoke request"
    return None


def check_body(body: Mapping[str, Any]) -> tuple[str, list[Violation]]:
    """The kind of ``body`` and every violation in it (raises ValueError for a message body)."""
    kind = body_kind(body)
    out: list[Violation] = []
    if kind == "gsma status update":
        status = body["RCSMessage"]["status"]
        if status not in _STATUSES:
            out.append(Violation("RCSMessage.status", status, "must be displayed or cancelled"))
    elif kind == "google agent event":
        for key in body:
            if key not in ("eventType", "messageId"):
                out.append(Violation(key, body[key], "unknown field for an agent event"))
        if body["eventType"] not in _EVENTS:
            out.append(Violation("eventType", body["eventType"], "must be READ or IS_TYPING"))
        if body["eventType"] == "READ" and not isinstance(body.get("messageId"), str):
            out.append(Violation("messageId", body.get("messageId"), "READ needs a messageId"))
    elif kind == "bulk capability request":
        users = body["users"]
        if not isinstance(users, list):
            out.append(Violation("users", users, "must be a JSON array of phone numbers"))
        else:
            if len(users) > BULK_CAPABILITY_MAX:
                out.append(
                    Violation(
                        "users",
                        f"{len(users)} numbers",
                        f"at most {BULK_CAPABILITY_MAX} numbers per request",
                    )
                )
            for i, number in enumerate(users):
                try:
                    if normalize_msisdn(number) != number:
                        out.append(Violation(f"users[{i}]", number, "must be E.164 (+ and digits)"))
                except InvalidMessage as err:
                    out.extend(Violation(f"users[{i}]", v.value, v.limit) for v in err.violations)
    elif kind == "google revoke request":
        if not isinstance(body["conversationId"], str) or not body["conversationId"]:
            out.append(Violation("conversationId", body["conversationId"], "a non-empty string"))
    else:
        raise ValueError("not a status, event, bulk or revoke body")
    return kind, out
