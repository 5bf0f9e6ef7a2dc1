"""Message expiry fields shared by the GSMA and Google bodies: ``ttl`` and ``expireTime``.

``ttl`` is a duration in seconds with up to nine fractional digits ending in ``s`` (``"30s"``);
``expireTime`` an RFC 3339 UTC "Zulu" timestamp with up to nine fractional digits. At most one
may be given; a malformed value or a time not in the future is rejected (seed 002 section 2.1.1).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

__all__ = ["ExpiryError", "expiry_of", "parse_expire_time", "parse_ttl"]

_TTL = re.compile(r"^\d+(\.\d{1,9})?s$")
_ZULU = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


class ExpiryError(ValueError):
    """``ttl`` or ``expireTime`` is malformed or not in the future."""


def parse_ttl(value: Any) -> float:
    """Seconds from a ``ttl`` string such as ``"30s"`` or ``"1.5s"``."""
    if not isinstance(value, str) or not _TTL.match(value):
        raise ExpiryError(
            f"ttl {value!r} is not a duration like '30s' (seconds, up to nine fractional digits, "
            "ending with 's')"
        )
    seconds = float(value[:-1])
    if seconds <= 0:
        raise ExpiryError(f"ttl {value!r} must be more than 0s")
    return seconds


def parse_expire_time(value: Any) -> float:
    """POSIX seconds from an RFC 3339 UTC ``expireTime`` such as ``"2024-10-02T15:01:23Z"``."""
    m = _ZULU.match(value) if isinstance(value, str) else None
    if m is None:
        raise ExpiryError(
            f"expireTime {value!r} is not an RFC 3339 UTC 'Zulu' timestamp "
            "(like 2024-10-02T15:01:23Z)"
        )
    try:
        base = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        raise ExpiryError(f"expireTime {value!r} is not a valid date and time") from None
    fraction = float("0." + m.group(2)) if m.group(2) else 0.0
    return base.timestamp() + fraction


def expiry_of(body: dict[str, Any], now: float) -> float | None:
    """When a message with these top-level fields expires (POSIX seconds), or ``None``."""
    ttl = body.get("ttl")
    expire = body.get("expireTime")
    if ttl is not None and expire is not None:
        raise ExpiryError("give ttl or expireTime, not both")
    if ttl is not None:
        return now + parse_ttl(ttl)
    if expire is not None:
        at = parse_expire_time(expire)
        if at <= now:
            raise ExpiryError(f"expireTime {expire!r} is not in the future")
        return at
    return None
