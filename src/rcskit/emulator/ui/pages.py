"""The web UI's pages: the phone list and a phone's conversation, as complete HTML documents.

Pages are rendered complete on the server (they read fine without JavaScript); the script
(``static/phone.js``) then keeps them live from the event stream and sends the user's taps,
replies and locations to the admin API.
"""

from __future__ import annotations

from urllib.parse import quote

import phonenumbers

from ..config import BotConfig
from ..core.phones import Phone
from ..core.request_log import mask_url
from ..core.state import EmulatorState
from .icons import icon
from .listing import PhoneRow, phone_rows, range_summaries
from .render import h, log_entry_html, message_html, phone_href, time_html
from .stream import PhoneView

__all__ = [
    "STATIC",
    "display_number",
    "error_page",
    "initials",
    "phone_list_html",
    "phone_list_page",
    "phone_page",
]

STATIC = "/_ui/static"
"""Where the stylesheet, script and icon are served."""

_AVATAR_COLOURS = ("#0b57d0", "#146c2e", "#b3261e", "#7d5260", "#8e4a00", "#00639b", "#6750a4")


def display_number(number: str) -> str:
    """``+14251234567`` as ``+1 425-123-4567`` (unchanged when it does not parse)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def initials(name: str) -> str:
    """Up to two initials of a name, for an avatar (``Dotgo demo bot`` gives ``DD``)."""
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0].upper() for w in words[:2]) or "?"


def _colour(key: str) -> str:
    return _AVATAR_COLOURS[sum(key.encode()) % len(_AVATAR_COLOURS)]


def _document(title: str, body: str, body_attrs: str = "") -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{h(title)}</title>"
        f'<link rel="icon" href="{STATIC}/icon.svg" type="image/svg+xml">'
        f'<link rel="stylesheet" href="{STATIC}/phone.css">'
        f'<script src="{STATIC}/phone.js" defer></script>'
        f"</head><body {body_attrs}>{body}</body></html>"
    )


def _topbar(crumb: str = "") -> str:
    return (
        '<header class="topbar"><a class="brand" href="/">'
        f'<img src="{STATIC}/icon.svg" alt="" width="26" height="26">'
        "<span>rcskit <b>emulator</b></span></a>"
        f'<span class="crumb">{crumb}</span>'
        '<nav><a href="/">Phones</a><a href="/_emulator/">Admin API</a>'
        '<a href="/_emulator/log">Request log</a></nav></header>'
    )


# ------------------------------------------------------------------ phone list


def _row_html(row: PhoneRow) -> str:
    badges = [
        '<span class="badge rcs">RCS</span>'
        if row.rcs
        else '<span class="badge sms" title="Not RCS-enabled">SMS only</span>'
    ]
    badges.append(
        '<span class="presence online">online</span>'
        if row.online
        else '<span class="presence offline">offline</span>'
    )
    preview = (
        f'<span class="preview">{h(row.last_text)}</span>'
        if row.last_text
        else '<span class="preview empty">No messages yet</span>'
    )
    when = time_html(row.last_at, "when") if row.last_at is not None else ""
    unread = (
        f'<span class="unread" title="{row.unread} unread">{row.unread}</span>'
        if row.unread
        else ""
    )
    colour = _colour(row.number)
    digits = row.number[-2:]
    return (
        f'<li class="phone-row{" has-unread" if row.unread else ""}" data-number="{h(row.number)}">'
        f'<a href="{h(phone_href(row.number, row.bot_id))}">'
        f'<span class="avatar" style="background:{colour}">{h(digits)}</span>'
        f'<span class="row-main"><span class="row-top"><span class="number">'
        f"{h(display_number(row.number))}</span>{''.join(badges)}</span>{preview}</span>"
        f'<span class="row-side">{when}{unread}</span></a></li>'
    )


def phone_list_html(state: EmulatorState) -> str:
    """The list's rows and the generated ranges (the part the live stream replaces)."""
    rows = phone_rows(state)
    items = "".join(_row_html(r) for r in rows) or '<li class="empty">No phones</li>'
    ranges = []
    for r in range_summaries(state):
        ranges.append(
            f"<li><b>{r.count:,}</b> generated numbers <code>{h(r.first)}</code> to "
            f"<code>{h(r.last)}</code>, {r.rcs_ratio:.0%} RCS, {r.online_ratio:.0%} online"
            "</li>"
        )
    more = f'<ul class="ranges">{"".join(ranges)}</ul>' if ranges else ""
    return f'<ul class="phones">{items}</ul>{more}'


def phone_list_page(state: EmulatorState, rev: int) -> str:
    """``/``: the simulated phones, live."""
    bots = "".join(
        f"<li><b>{h(b.name)}</b> <code>{h(b.id)}</code> <span>{h(b.provider)}</span>"
        f'<span class="hook">{h(mask_url(b.webhook_url) if b.webhook_url else "no webhook URL")}'
        "</span></li>"
        for b in state.bots.values()
    )
    body = (
        _topbar() + '<main class="list-page"><section class="intro"><h1>Phones</h1>'
        "<p>Simulated phones of this emulator. Open one to see its conversation with a bot, "
        "tap suggestions, reply, or share a location: the bot gets the webhook its provider "
        "sends.</p>"
        '<form class="open-number" action="/open" method="get">'
        '<label for="open-number">Open any number</label>'
        '<input id="open-number" name="number" placeholder="+14251234567" '
        'inputmode="tel" autocomplete="off" required>'
        '<button type="submit">Open</button></form></section>'
        f'<section class="phone-list" id="phone-list">{phone_list_html(state)}</section>'
        f'<section class="bots"><h2>Bots</h2><ul>{bots or "<li>No bots</li>"}</ul></section>'
        "</main>"
    )
    attrs = f'class="page-list" data-stream="/_ui/stream?rev={rev}"'
    return _document("Phones · rcskit emulator", body, attrs)


# ------------------------------------------------------------------ phone page


def _status_bar() -> str:
    return (
        '<div class="statusbar"><span class="clock" data-clock>--:--</span>'
        '<span class="camera" aria-hidden="true"></span>'
        f'<span class="status-icons">{icon("signal")}{icon("wifi")}{icon("battery")}</span>'
        "</div>"
    )


def _bot_picker(state: EmulatorState, number: str, bot_id: str | None) -> str:
    options = "".join(
        f'<option value="{h(b.id)}"{" selected" if b.id == bot_id else ""}>'
        f"{h(b.name)} ({h(b.provider)})</option>"
        for b in state.bots.values()
    )
    return (
        '<form class="bot-picker" method="get" '
        f'action="/phones/{h(quote(number, safe="+"))}">'
        f'<label for="bot">Bot</label><select id="bot" name="bot" data-autosubmit>{options}'
        '</select><noscript><button type="submit">Show</button></noscript></form>'
    )


def _sheets() -> str:
    return (
        '<div class="sheet" id="sheet" hidden>'
        '<div class="sheet-tabs" role="tablist">'
        '<button type="button" data-sheet-tab="location" class="active">Location</button>'
        '<button type="button" data-sheet-tab="file">File</button>'
        '<button type="button" class="sheet-close" data-sheet-close aria-label="Close">'
        "&times;</button></div>"
        '<form class="sheet-form" data-sheet="location">'
        '<div class="presets">'
        '<button type="button" data-preset="48.8584,2.2945,Eiffel Tower">Eiffel Tower</button>'
        '<button type="button" data-preset="37.4220,-122.0841,Googleplex">Googleplex</button>'
        '<button type="button" data-preset="-33.8568,151.2153,Sydney Opera House">'
        "Sydney Opera House</button></div>"
        '<div class="fields"><label>Latitude <input name="latitude" value="48.8584" '
        'inputmode="decimal" required></label>'
        '<label>Longitude <input name="longitude" value="2.2945" inputmode="decimal" required>'
        '</label></div><label>Label <input name="label" value="Eiffel Tower"></label>'
        '<button type="submit" class="primary">Share location</button></form>'
        '<form class="sheet-form" data-sheet="file" hidden>'
        '<label>File URL <input name="url" type="url" required '
        'value="https://example.com/photo.jpg"></label>'
        '<div class="fields"><label>Type <select name="mime_type">'
        "<option>image/jpeg</option><option>image/png</option><option>application/pdf</option>"
        "<option>audio/mpeg</option><option>video/mp4</option></select></label>"
        '<label>Size (bytes) <input name="size" value="120000" inputmode="numeric"></label>'
        '</div><label>Name <input name="name" value="photo.jpg"></label>'
        '<button type="submit" class="primary">Send file</button></form></div>'
    )


def _subscription_switch(bot: BotConfig | None, phone: Phone | None) -> str:
    """The "Subscribed" switch for a Google RBM bot (unsubscribe and resubscribe are Google
    user events); nothing for other providers or an unknown phone."""
    if bot is None or phone is None or bot.provider != "google":
        return ""
    subscribed = not phone.opted_out_of(bot.id)
    return (
        '<label class="switch"><input type="checkbox" id="subscribe-toggle"'
        f"{' checked' if subscribed else ''}><span>Subscribed to this bot</span></label>"
    )


def phone_page(state: EmulatorState, view: PhoneView, rev: int, admin_prefix: str) -> str:
    """``/phones/{number}``: the conversation with one bot, in a phone frame, and the traffic."""
    number, bot_id = view.number, view.bot_id
    bot = state.bot(bot_id) if bot_id else None
    phone = state.phones.get(number)
    online, rcs = view.phone()
    views = view.views()
    conversation = "".join(message_html(v) for v in views)
    chips = view.chips()
    typing, _ = view.typing()
    entries = "".join(log_entry_html(e) for e in view.log_entries())
    name = bot.name if bot else "No bot"
    banner = ""
    if phone is not None and not rcs:
        banner = (
            '<div class="notice warn">This number is not RCS-enabled: bot messages to it fail '
            "(404) and it cannot message a bot.</div>"
        )
    empty = (
        '<div class="empty-conversation">No messages yet. Type a message below: the bot gets '
        "it as a webhook.</div>"
    )
    device = (
        '<section class="device" aria-label="Phone"><div class="screen">'
        + _status_bar()
        + '<div class="appbar"><a class="back" href="/" aria-label="All phones">'
        + icon("back")
        + f'</a><span class="avatar" style="background:{_colour(bot_id or name)}">'
        + f"{h(initials(name))}</span>"
        + f'<span class="who"><span class="name">{h(name)}'
        + icon("verified", "icon verified")
        + f'</span><span class="sub">{h(bot.provider if bot else "")} · '
        + f"{h(display_number(number))}</span></span></div>"
        + f'<div class="notice offline" id="offline-notice"{"" if not online else " hidden"}>'
        + "Phone offline: bot messages wait until it comes back online.</div>"
        + banner
        + '<div class="conversation" id="conversation" role="log" aria-live="polite">'
        + f'<div class="messages" id="messages">{conversation}</div>'
        + (empty if not views else "")
        + f'<div class="msg bot typing" id="typing"{"" if typing else " hidden"} '
        + 'aria-label="The bot is typing"><div class="bubble"><i></i><i></i><i></i></div></div>'
        + "</div>"
        + f'<div class="chips" id="chips"{"" if chips else " hidden"}>{chips}</div>'
        + '<form class="composer" id="composer" autocomplete="off">'
        + '<button type="button" class="round attach" data-open-sheet aria-label="Attach">'
        + icon("attach")
        + "</button>"
        + '<input name="text" placeholder="RCS message" aria-label="Message" '
        + 'enterkeyhint="send">'
        + '<button type="submit" class="round send" aria-label="Send">'
        + icon("send")
        + "</button></form>"
        + _sheets()
        + '<div class="toast" id="toast" role="status" hidden></div>'
        + "</div></section>"
    )
    controls = (
        '<section class="panel-card controls"><h2>Phone</h2><dl>'
        f"<dt>Number</dt><dd><code>{h(number)}</code></dd>"
        f'<dt>RCS</dt><dd id="rcs-state">{"yes" if rcs else "no"}</dd></dl>'
        '<label class="switch"><input type="checkbox" id="online-toggle"'
        f"{' checked' if online else ''}><span>Online</span></label>"
        '<label class="switch"><input type="checkbox" id="receipts-toggle" checked>'
        "<span>Send read receipts</span></label>"
        f"{_subscription_switch(bot, phone)}"
        f"{_bot_picker(state, number, bot_id)}</section>"
    )
    traffic = (
        '<section class="panel-card traffic"><div class="traffic-head"><h2>Traffic</h2>'
        '<div class="filters" role="group" aria-label="Show">'
        '<button type="button" class="active" data-filter="all">All</button>'
        '<button type="button" data-filter="api">API</button>'
        '<button type="button" data-filter="webhook">Webhooks</button></div></div>'
        '<p class="hint">Requests the bot made to the API, and the webhooks the emulator '
        "posted to the bot, with their status. Click one for its bodies.</p>"
        f'<ol class="log" id="log">{entries}</ol></section>'
    )
    stream = f"/_ui/phones/{quote(number, safe='+')}/stream?rev={rev}" + (
        f"&bot={quote(bot_id, safe='')}" if bot_id else ""
    )
    attrs = (
        f'class="page-phone" data-number="{h(number)}" data-bot="{h(bot_id or "")}" '
        f'data-admin="{h(admin_prefix)}" data-stream="{h(stream)}"'
    )
    body = (
        _topbar(f"{icon('back', 'icon crumb-icon')} {h(display_number(number))}")
        + f'<main class="workspace">{device}<aside class="panel">{controls}{traffic}</aside>'
        "</main>"
    )
    return _document(f"{display_number(number)} · rcskit emulator", body, attrs)


def error_page(title: str, message: str) -> str:
    """A small page for a missing phone or a bad number."""
    body = (
        _topbar() + f'<main class="list-page"><section class="intro"><h1>{h(title)}</h1>'
        f'<p>{h(message)}</p><p><a href="/">All phones</a></p></section></main>'
    )
    return _document(f"{title} · rcskit emulator", body, 'class="page-error"')
