"""Refusing what the platforms refuse: a message body checked by rcskit's own validators.

The emulator's structural checks (:mod:`.gsma`, :mod:`.google`) answer each flavour's
established errors; a bot in ``strict`` mode (the default) then has its message checked
like the real platform would: the body is read with :mod:`rcskit.formats` (every field's type
and syntax: URLs, coordinates, phone numbers in suggestions, media metadata) and the message
checked against the provider's limits profile (:func:`rcskit.limits.check`). The first
refusal is a :class:`~.checks.WireError` of kind ``invalid`` naming every violation by its
JSON path; each flavour renders it in its own error body. A ``lenient`` bot skips this::

    refusal = platform_refusal("gsma", body, "dotgo", state.now())
    if refusal is not None:
        raise refusal
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import orjson

from ...errors import InvalidMessage, Violation
from ...formats import get_format, in_wire_terms
from ...limits import PROFILES, check
from ..config import BotConfig
from .checks import WireError

__all__ = ["Strictness", "check_strictly", "limits_profile", "platform_refusal"]

Strictness = Literal["strict", "lenient"]
"""``strict``: refuse what the platform refuses (the default); ``lenient``: structural checks
only, for testing a bot against a platform that lets more through."""


def limits_profile(provider: str, fmt: str) -> str:
    """The limits profile a bot's messages are checked against: the provider's own profile
    when :mod:`rcskit.limits` has one, else the format's generic one (``gsma``, ``google``)."""
    return provider if provider in PROFILES else fmt


def _describe(violations: list[Violation]) -> str:
    parts = []
    for v in violations:
        where = v.path or "body"
        parts.append(f"{where}: {v.limit} (got {v.value!r:.80})")
    return "; ".join(parts)


def platform_refusal(
    fmt: Literal["gsma", "google"], body: Mapping[str, Any], profile: str, now: datetime
) -> WireError | None:
    """The refusal of a message body the platform would not accept, or ``None``.

    ``fmt`` is the wire format of ``body`` (a full send body: ``{"RCSMessage": ...}`` or
    ``{"contentMessage": ...}``), ``profile`` a :data:`rcskit.limits.PROFILES` name and
    ``now`` the platform's time (``expireTime`` must be after it).
    """
    module = get_format(fmt)
    try:
        envelope = module.decode(body)
    except InvalidMessage as err:
        return WireError("invalid", _describe(list(err.violations)))
    except (TypeError, ValueError) as err:
        return WireError("invalid", str(err))
    found = check(envelope.message, profile, now=now, wire_format=fmt)
    if not found:
        return None
    return WireError("invalid", _describe(in_wire_terms(fmt, envelope.message, found)))


_MEMO_SIZE = 1024
_memo: OrderedDict[tuple[str, str, bytes], str | None] = OrderedDict()


def check_strictly(
    bot: BotConfig, fmt: Literal["gsma", "google"], body: Mapping[str, Any], now: datetime
) -> None:
    """Raise the platform's refusal of ``body`` when ``bot`` is ``strict`` (else nothing).

    The recipient (``messageContact``, already checked by the flavour) is left out. A body
    without expiry fields does not depend on the time, so its verdict is remembered (the last
    1,024 distinct bodies): a campaign sending one body to many numbers is checked once.
    """
    if bot.strictness != "strict":
        return
    profile = limits_profile(bot.provider, fmt)
    message = {k: v for k, v in body.items() if k != "messageContact"}
    if "ttl" in message or "expireTime" in message:
        refusal = platform_refusal(fmt, message, profile, now)
        reason = None if refusal is None else refusal.message
    else:
        key = (fmt, profile, orjson.dumps(message, option=orjson.OPT_SORT_KEYS))
        if key in _memo:
            _memo.move_to_end(key)
            reason = _memo[key]
        else:
            refusal = platform_refusal(fmt, message, profile, now)
            reason = _memo[key] = None if refusal is None else refusal.message
            if len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
    if reason is not None:
        raise WireError("invalid", reason)
