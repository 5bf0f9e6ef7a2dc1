"""The checks and effects of a Dotgo send, shared by the GSMA and the Google API.

In order: curfew (503-A), spam block (403-C), template (400-D unknown, 400-B not approved,
400-A missing params, 400-C test template limit), launch (403-A for non-testers of a bot not
launched), opt-out (403-B), conversation rule (401-D), monthly limit (429-B), balance (402-A).
Errors after acceptance (number not RCS: 404-A; MaaP errors) arrive as webhook events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ...config import BotConfig
from ...core.delivery import accept
from ...core.records import FMT_GSMA, StoredMessage
from ...core.state import EmulatorState
from .errors import DotgoError
from .templates import TemplateParamsError, custom_params, missing_params, render_template

__all__ = ["Outgoing", "check_reachable", "is_basic", "precheck", "resolve_template", "submit"]

BASIC_TEXT_LIMIT = 160
"""A plain text of at most this many characters without suggestions bills as a Basic Message."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What the phone will get: content in wire form (``fmt``), the template code if any."""

    content: dict[str, Any]
    fmt: int
    template: str | None
    basic: bool


def is_basic(text: Any, has_suggestions: bool) -> bool:
    """Whether a message bills as a Basic Message (short plain text, no suggestions)."""
    return isinstance(text, str) and len(text) <= BASIC_TEXT_LIMIT and not has_suggestions


def _in_curfew(bot: BotConfig, state: EmulatorState) -> bool:
    curfew = bot.curfew
    if curfew is None:
        return False
    local = (state.now() + timedelta(minutes=curfew.utc_offset_minutes)).time()
    if curfew.start <= curfew.end:
        return curfew.start <= local < curfew.end
    return local >= curfew.start or local < curfew.end


def resolve_template(state: EmulatorState, bot: BotConfig, block: dict[str, Any]) -> Outgoing:
    """Fill a registered template from ``{"templateCode", "customParams"}``."""
    code = block.get("templateCode")
    template = bot.templates.get(code) if isinstance(code, str) else None
    if template is None:
        raise DotgoError("400-D", detail=f"templateCode {code!r}")
    if not template.approved:
        raise DotgoError("400-B", detail=f"templateCode {code!r}")
    try:
        params = custom_params(block.get("customParams"))
    except TemplateParamsError as exc:
        raise DotgoError("400-F", detail=str(exc)) from None
    missing = missing_params(template, params)
    if missing:
        raise DotgoError("400-A", detail="missing: " + ", ".join(missing))
    if not bot.launched and bot.test_template_limit is not None:
        counters = state.counters_of(bot.id)
        if counters.test_templates >= bot.test_template_limit:
            raise DotgoError("400-C", detail=f"limit {bot.test_template_limit}")
    content = render_template(template, params)
    basic = is_basic(content.get("textMessage"), "suggestedChipList" in content)
    assert isinstance(code, str)
    return Outgoing(content, FMT_GSMA, code, basic)


def check_reachable(state: EmulatorState, bot: BotConfig, phone: str) -> None:
    """403-A for a non-tester of a bot not launched; 403-B when the user opted out."""
    if not bot.launched and phone not in bot.testers:
        raise DotgoError("403-A")
    target = state.phones.get(phone)
    if target is not None and target.opted_out_of(bot.id):
        raise DotgoError("403-B")


def precheck(state: EmulatorState, bot: BotConfig) -> None:
    """The checks that do not depend on the body: curfew (503-A) and spam block (403-C)."""
    if _in_curfew(bot, state):
        raise DotgoError("503-A")
    if bot.blocked_for_spam:
        raise DotgoError("403-C")


def submit(
    state: EmulatorState,
    bot: BotConfig,
    phone: str,
    outgoing: Outgoing,
    *,
    msg_id: str,
    expire_at: float | None,
) -> StoredMessage:
    """Apply the account checks and accept the message (it is then delivered asynchronously)."""
    check_reachable(state, bot, phone)
    if outgoing.template is None and bot.require_template_outside_conversation:
        conv = state.conversations.get((bot.id, phone))
        last = conv.last_p2a_at if conv else None
        if last is None or state.ts() - last >= state.config.conversation_window_s:
            raise DotgoError("401-D")
    counters = state.counters_of(bot.id)
    if bot.monthly_message_limit is not None:
        sent = counters.monthly.get(state.month(state.ts()), 0)
        if sent >= bot.monthly_message_limit:
            raise DotgoError("429-B")
    if bot.balance is not None and bot.balance <= 0:
        raise DotgoError("402-A")
    if outgoing.template is not None and not bot.launched:
        counters.test_templates += 1
    return accept(
        state,
        bot,
        phone,
        fmt=outgoing.fmt,
        content=outgoing.content,
        msg_id=msg_id,
        expire_at=expire_at,
        template=outgoing.template,
        basic=outgoing.basic,
    )
