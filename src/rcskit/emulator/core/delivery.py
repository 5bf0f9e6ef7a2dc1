"""A bot message's life on the platform: accepted, sent, delivered, displayed, or not.

After :func:`accept` the platform hands the message to the phone's network at once (``sent``);
an online RCS phone gets it after its ``delivered_delay_s`` and reads it after its
``displayed_delay_s``; an offline phone queues it until :func:`set_online`. A non-RCS number
fails with 404-A and a phone whose MaaP rejects messages fails with its ``maap_error``. At the
expiry time (``ttl``/``expireTime``) an undelivered message is revoked (``ttl_revoked``) and a
delivered one reports ``ttl_revoke_failed``. Charged messages that fail or are revoked are
refunded. Every step is a timer on the platform clock.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from ...observability.catalogue import EMULATOR_DELIVERIES
from ..config import BotConfig
from .billing import BillingLedger
from .events import BillingEvent, StatusEvent
from .phones import Phone
from .records import (
    A2P,
    CANCELLED,
    DELIVERED,
    DISPLAYED,
    FAILED,
    PENDING,
    REVOKED,
    SENT,
    StoredMessage,
    compact_json,
)
from .state import EmulatorState

__all__ = [
    "accept",
    "cancel",
    "deliver",
    "display",
    "expire",
    "fail",
    "mark_sent",
    "read_by_bot",
    "set_online",
]


def _status(state: EmulatorState, msg: StoredMessage, status: str, **reason: str) -> None:
    state.emit(
        StatusEvent(
            bot_id=msg.bot_id,
            phone=msg.phone,
            msg_id=msg.msg_id,
            status=status,
            at=state.now(),
            event_id=state.new_id(),
            reason_code=reason.get("code"),
            reason_text=reason.get("text"),
        )
    )


def _refund(state: EmulatorState, msg: StoredMessage) -> None:
    bot = state.bot(msg.bot_id)
    if msg.charge is None or msg.charge.startswith("refunded:") or bot is None:
        return
    if bot.balance is not None:
        bot.balance += 1
    payload = BillingLedger.refund(state.party(bot, msg.phone), msg.msg_id, msg.charge, state.ts())
    msg.charge = sys.intern(f"refunded:{msg.charge}")
    state.emit(BillingEvent(bot.id, msg.phone, payload))


def _unqueue(state: EmulatorState, msg: StoredMessage) -> None:
    waiting = state.queued.get(msg.phone)
    if waiting and msg in waiting:
        waiting.remove(msg)
        if not waiting:
            del state.queued[msg.phone]


def accept(
    state: EmulatorState,
    bot: BotConfig,
    phone: str,
    *,
    fmt: int,
    content: dict[str, Any],
    msg_id: str,
    expire_at: float | None = None,
    template: str | None = None,
    basic: bool = False,
) -> StoredMessage:
    """Take a bot message the API accepted: store it, charge it, start its delivery."""
    now = state.ts()
    msg = StoredMessage(
        msg_id=msg_id,
        bot_id=sys.intern(bot.id),
        phone=sys.intern(phone),
        direction=A2P,
        fmt=fmt,
        content=compact_json(content),
        created=now,
        expire_at=expire_at,
        template=template,
    )
    state.store(msg)
    state.conversation(bot.id, phone).agent_typing_until = 0.0
    counters = state.counters_of(bot.id)
    month = state.month(now)
    counters.monthly[month] = counters.monthly.get(month, 0) + 1
    if bot.balance is not None:
        bot.balance -= 1
    charge, payload = state.billing.a2p(
        state.party(bot, phone), bot.id, msg_id, now, basic=basic, trans24=bot.trans24
    )
    msg.charge = charge
    state.emit(BillingEvent(bot.id, phone, payload))
    target = state.phones.get(phone)
    if target is None or not target.rcs:
        state.scheduler.at(now, lambda: fail(state, msg, "404-A", "Rcs disabled"))
    elif target.maap_error is not None:
        code, text = target.maap_error.code, target.maap_error.text
        state.scheduler.at(now, lambda: fail(state, msg, code, text))
    else:
        state.scheduler.at(now, lambda: mark_sent(state, msg))
    if expire_at is not None:
        state.scheduler.at(expire_at, lambda: expire(state, msg))
    return msg


def mark_sent(state: EmulatorState, msg: StoredMessage) -> None:
    """The platform handed the message to the network: ``sent``, then toward the phone."""
    if msg.status != PENDING:
        return
    msg.status = SENT
    msg.sent_at = state.ts()
    _status(state, msg, SENT)
    phone = state.phones.get(msg.phone)
    if phone is not None:
        _toward(state, msg, phone)


def _toward(state: EmulatorState, msg: StoredMessage, phone: Phone) -> None:
    if phone.online:
        state.scheduler.after(phone.delivered_delay_s, lambda: deliver(state, msg))
    else:
        state.queued.setdefault(msg.phone, []).append(msg)


def deliver(state: EmulatorState, msg: StoredMessage) -> None:
    """The phone received the message (queued instead if it went offline meanwhile)."""
    if msg.status != SENT:
        return
    phone = state.phones.get(msg.phone)
    if phone is None:
        return
    if not phone.online:
        state.queued.setdefault(msg.phone, []).append(msg)
        return
    msg.status = DELIVERED
    msg.delivered_at = state.ts()
    _status(state, msg, DELIVERED)
    bot = state.bots.get(msg.bot_id)
    EMULATOR_DELIVERIES.inc(bot.provider if bot is not None else "unknown")
    if phone.displayed_delay_s is not None:
        state.scheduler.after(phone.displayed_delay_s, lambda: display(state, msg))


def display(state: EmulatorState, msg: StoredMessage) -> bool:
    """The user read a delivered bot message: ``displayed``. False if it was not delivered."""
    if msg.status != DELIVERED:
        return False
    msg.status = DISPLAYED
    msg.displayed_at = state.ts()
    _status(state, msg, DISPLAYED)
    return True


def fail(state: EmulatorState, msg: StoredMessage, code: str, text: str) -> None:
    """The message failed downstream: ``failed`` with the reason, and a refund."""
    if msg.status not in (PENDING, SENT):
        return
    _unqueue(state, msg)
    msg.status = FAILED
    msg.ended_at = state.ts()
    msg.reason = sys.intern(f"{code}: {text}")
    _status(state, msg, FAILED, code=code, text=text)
    _refund(state, msg)


def expire(state: EmulatorState, msg: StoredMessage) -> None:
    """The expiry time came: revoke if undelivered, else report that revoking failed."""
    if msg.status in (PENDING, SENT):
        _unqueue(state, msg)
        msg.status = REVOKED
        msg.ended_at = state.ts()
        _status(state, msg, "ttl_revoked")
        _refund(state, msg)
    elif msg.status in (DELIVERED, DISPLAYED):
        _status(state, msg, "ttl_revoke_failed")


def cancel(state: EmulatorState, msg: StoredMessage) -> bool:
    """The bot revokes its message: done (``cancelled``) only if not yet delivered."""
    if msg.status not in (PENDING, SENT):
        return False
    _unqueue(state, msg)
    msg.status = CANCELLED
    msg.ended_at = state.ts()
    _status(state, msg, CANCELLED)
    _refund(state, msg)
    return True


def read_by_bot(state: EmulatorState, msg: StoredMessage) -> None:
    """The bot sent a read receipt for a user's message."""
    if msg.displayed_at is None:
        msg.displayed_at = state.ts()
        msg.status = DISPLAYED


def set_online(state: EmulatorState, number: str, online: bool) -> Phone:
    """Switch a phone on or off line; coming online delivers what was queued, in order."""
    phone = state.phones.materialize(number)
    if phone is None:
        raise LookupError(f"unknown phone {number}")
    phone.online = online
    if online:
        for msg in state.queued.pop(number, []):
            if msg.status == SENT:
                state.scheduler.after(
                    phone.delivered_delay_s, functools.partial(deliver, state, msg)
                )
    return phone
