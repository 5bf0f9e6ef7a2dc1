"""HTML fragments of the web UI: message bubbles, cards, carousels, chips, traffic entries.

Pure functions from the view model (:mod:`rcskit.emulator.ui.view`) and log entries to HTML
strings; every value from a message or a request is escaped. The server renders the first
page with them and the live stream sends the same fragments, so there is one renderer.

Tappable elements carry ``data-tap`` (the JSON body the phone posts to the admin API's
``/phones/{number}/actions`` with ``"type": "tap"``: ``msg_id``, ``card_index``, ``index``) and
``data-action``/``data-detail``/``data-url`` describing what a real phone would do.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlsplit

from ...formats.jsonin import JsonInputError, load_json
from ..core.request_log import LogEntry
from .icons import icon
from .view import (
    AudioView,
    CardView,
    CarouselView,
    Content,
    FileView,
    LocationView,
    MediaView,
    MessageView,
    RawView,
    ResponseView,
    SuggestionView,
    TextView,
)

__all__ = [
    "BOT_MARKS",
    "USER_MARKS",
    "chips_html",
    "dom_id",
    "format_size",
    "log_entry_html",
    "message_html",
    "phone_href",
    "pretty_body",
    "short_target",
    "time_html",
]

BOT_MARKS: dict[str, tuple[str, str]] = {
    "pending": ("clock", "Sending"),
    "sent": ("check", "Sent"),
    "delivered": ("double_check", "Delivered"),
    "displayed": ("double_check", "Read"),
    "failed": ("alert", "Not delivered"),
    "cancelled": ("alert", "Revoked by the bot"),
    "revoked": ("alert", "Expired and revoked"),
}
"""Icon and label of a bot message's status."""

USER_MARKS: dict[str, tuple[str, str]] = {
    "received": ("check", "Sent"),
    "displayed": ("double_check", "Read by the bot"),
}
"""Icon and label of a user message's status (``displayed``: the bot sent a read receipt)."""


def h(value: object) -> str:
    """``value`` as escaped HTML text (quotes too, so it is safe in attributes)."""
    return escape(str(value), quote=True)


def dom_id(msg_id: str) -> str:
    """The element id of a message's row."""
    return "m-" + msg_id


def phone_href(number: str, bot_id: str | None = None) -> str:
    """The URL of a phone's page (``/phones/+14251234567?bot=...``)."""
    href = "/phones/" + quote(number, safe="+")
    return href + (f"?bot={quote(bot_id, safe='')}" if bot_id else "")


def format_size(size: int | None) -> str:
    """A byte count for people: ``512 B``, ``1.5 kB``, ``2.3 MB`` (empty when unknown)."""
    if size is None or size <= 0:
        return ""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def time_html(ts: float, css_class: str = "time") -> str:
    """A ``<time>`` element (UTC ``HH:MM`` the script shows in the viewer's local time)."""
    at = datetime.fromtimestamp(ts, UTC)
    iso = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f'<time class="{css_class}" datetime="{iso}">{at:%H:%M}</time>'


# ------------------------------------------------------------------ suggestions


def _tap(s: SuggestionView, msg_id: str) -> str:
    return json.dumps(
        {"msg_id": msg_id, "card_index": s.card_index, "index": s.index}, separators=(",", ":")
    )


def _suggestion_attrs(s: SuggestionView, msg_id: str) -> str:
    attrs = [
        f'data-tap="{h(_tap(s, msg_id))}"',
        f'data-kind="{h(s.kind)}"',
        f'data-action="{h(s.action or s.kind)}"',
        f'data-detail="{h(s.detail)}"',
        f'data-label="{h(s.label)}"',
        f'title="{h(s.detail)}"',
    ]
    if s.url:
        attrs.append(f'data-url="{h(s.url)}"')
    if s.postback:
        attrs.append(f'data-postback="{h(s.postback)}"')
    return " ".join(attrs)


def _chip(s: SuggestionView, msg_id: str) -> str:
    mark = icon(s.action or "action") if s.kind == "action" else ""
    return (
        f'<button type="button" class="chip chip-{h(s.kind)}" {_suggestion_attrs(s, msg_id)}>'
        f"{mark}<span>{h(s.label)}</span></button>"
    )


def _card_button(s: SuggestionView, msg_id: str) -> str:
    mark = icon(s.action or "action") if s.kind == "action" else ""
    return (
        f'<button type="button" class="card-button" {_suggestion_attrs(s, msg_id)}>'
        f"{mark}<span>{h(s.label)}</span></button>"
    )


def chips_html(view: MessageView | None) -> str:
    """The chip list of the conversation's latest message (empty when it has none)."""
    if view is None or not view.chips:
        return ""
    chips = "".join(_chip(s, view.msg_id) for s in view.chips)
    return f'<div class="chip-row" data-msg="{h(view.msg_id)}">{chips}</div>'


# ------------------------------------------------------------------ contents


def _img(url: str, alt: str, css_class: str = "") -> str:
    cls = f' class="{css_class}"' if css_class else ""
    return f'<img{cls} src="{h(url)}" alt="{h(alt)}" decoding="async" draggable="false">'


def _media(media: MediaView, alt: str) -> str:
    classes = f"media h-{media.height}"
    label = media.description or alt
    if media.is_video:
        poster = _img(media.thumbnail, label) if media.thumbnail else ""
        link = f' href="{h(media.url)}" target="_blank" rel="noopener"' if media.url else ""
        return (
            f'<a class="{classes} video"{link} aria-label="Play video">{poster}'
            f'<span class="play-badge">{icon("play")}</span></a>'
        )
    if media.url is None:
        return f'<div class="{classes} broken" role="img" aria-label="{h(label)}"></div>'
    return f'<div class="{classes}">{_img(media.url, label)}</div>'


def _card(card: CardView, msg_id: str, extra_class: str = "") -> str:
    classes = ["card", card.orientation]
    if card.orientation == "horizontal":
        classes.append(f"image-{card.alignment}")
    if extra_class:
        classes.append(extra_class)
    parts = []
    if card.media is not None:
        parts.append(_media(card.media, card.title or "card image"))
    body = []
    if card.title:
        body.append(f'<div class="card-title">{h(card.title)}</div>')
    if card.description:
        body.append(f'<div class="card-description">{h(card.description)}</div>')
    text = f'<div class="card-text">{"".join(body)}</div>' if body else ""
    buttons = ""
    if card.suggestions:
        buttons = (
            '<div class="card-buttons">'
            + "".join(_card_button(s, msg_id) for s in card.suggestions)
            + "</div>"
        )
    if card.orientation == "horizontal":
        parts.append(f'<div class="card-side">{text}{buttons}</div>')
    else:
        parts.append(text + buttons)
    return f'<div class="{" ".join(classes)}">{"".join(parts)}</div>'


def _carousel(carousel: CarouselView, msg_id: str) -> str:
    cards = "".join(_card(c, msg_id, "carousel-card") for c in carousel.cards)
    return (
        f'<div class="carousel width-{carousel.width}" tabindex="0" '
        f'aria-label="Carousel of {len(carousel.cards)} cards">{cards}</div>'
    )


def _file(view: FileView) -> str:
    kind = view.kind
    name = view.name or (view.url.rsplit("/", 1)[-1] if view.url else "file")
    if kind == "image" and (view.url or view.thumbnail):
        src = view.url or view.thumbnail
        assert src is not None
        link_open = f'<a href="{h(view.url)}" target="_blank" rel="noopener">' if view.url else ""
        link_close = "</a>" if view.url else ""
        return f'<div class="file-image">{link_open}{_img(src, name)}{link_close}</div>'
    if kind == "video":
        media = MediaView(view.url, view.mime_type or "video/*", view.thumbnail, "medium", None)
        return f'<div class="file-video">{_media(media, name)}</div>'
    details = " · ".join(p for p in (view.mime_type or "", format_size(view.size)) if p)
    link = f' href="{h(view.url)}" target="_blank" rel="noopener"' if view.url else ""
    return (
        f'<a class="file-doc"{link}>{icon("file", "icon file-icon")}'
        f'<span class="file-text"><span class="file-name">{h(name)}</span>'
        f'<span class="file-details">{h(details or "file")}</span></span></a>'
    )


def _audio(view: AudioView) -> str:
    seconds = view.seconds
    length = f"{seconds // 60}:{seconds % 60:02d}" if seconds is not None else "--:--"
    bars = "".join(
        f'<i style="height:{pct}%"></i>'
        for pct in (30, 55, 80, 45, 95, 60, 35, 75, 50, 90, 40, 65, 85, 30, 55, 70, 45, 25)
    )
    url = f' data-audio="{h(view.url)}"' if view.url else " disabled"
    title = view.name or "Audio message"
    return (
        f'<div class="audio" title="{h(title)}"><button type="button" class="audio-play"{url} '
        f'aria-label="Play {h(title)}">{icon("play")}</button>'
        f'<span class="wave" aria-hidden="true">{bars}</span>'
        f'<span class="audio-length">{h(length)}</span></div>'
    )


_MAP_ART = (
    '<svg class="map-art" viewBox="0 0 240 120" preserveAspectRatio="xMidYMid slice" '
    'aria-hidden="true"><rect width="240" height="120" fill="#e6efe3"/>'
    '<path d="M0 84 C60 70 90 96 150 80 S220 60 240 66 V120 H0Z" fill="#cfe3f1"/>'
    '<path d="M-5 30 L250 52 M40 -5 L70 125 M150 -5 L128 125 M0 100 L240 8" stroke="#fff" '
    'stroke-width="7" fill="none"/><path d="M-5 30 L250 52 M40 -5 L70 125 M150 -5 L128 125" '
    'stroke="#f6d98b" stroke-width="2.5" fill="none"/>'
    '<g transform="translate(120 62)"><ellipse cx="0" cy="6" rx="7" ry="2.5" fill="#0003"/>'
    '<path d="M0 5 C-9 -6 -11 -10 -11 -15 A11 11 0 0 1 11 -15 C11 -10 9 -6 0 5Z" '
    'fill="#d93025"/><circle cx="0" cy="-15" r="4" fill="#fff"/></g></svg>'
)


def _location(view: LocationView) -> str:
    if view.latitude is not None and view.longitude is not None:
        coords = f"{view.latitude:.5f}, {view.longitude:.5f}"
        lat, lon = view.latitude, view.longitude
        href = f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
        link = f' href="{h(href)}" target="_blank" rel="noopener"'
    else:
        coords, link = "position unknown", ""
    label = view.label or "Location"
    return (
        f'<a class="location"{link}>{_MAP_ART}<span class="location-text">'
        f'<span class="location-label">{h(label)}</span>'
        f'<span class="location-coords">{h(coords)}</span></span></a>'
    )


def _content(content: Content, msg_id: str) -> tuple[str, str]:
    """``(kind, html)`` of a message content; ``kind`` names the bubble style."""
    if isinstance(content, TextView):
        return "text", f'<div class="bubble text">{h(content.text)}</div>'
    if isinstance(content, CardView):
        return "card", _card(content, msg_id, "standalone")
    if isinstance(content, CarouselView):
        return "carousel", _carousel(content, msg_id)
    if isinstance(content, FileView):
        return "file", f'<div class="bubble file">{_file(content)}</div>'
    if isinstance(content, AudioView):
        return "audio", f'<div class="bubble audio-bubble">{_audio(content)}</div>'
    if isinstance(content, LocationView):
        return "location", f'<div class="bubble location-bubble">{_location(content)}</div>'
    if isinstance(content, ResponseView):
        mark = icon("reply" if content.kind == "reply" else "action")
        return (
            "response",
            f'<div class="bubble text response">{mark}<span>{h(content.text)}</span></div>',
        )
    assert isinstance(content, RawView)
    return (
        "raw",
        f'<div class="bubble raw"><div class="raw-note">{h(content.note)}</div>'
        f"<pre>{h(content.json_text)}</pre></div>",
    )


def _mark(view: MessageView) -> str:
    marks = BOT_MARKS if view.from_bot else USER_MARKS
    name, label = marks.get(view.status, ("clock", view.status))
    if view.from_bot and view.status == "failed" and view.reason:
        label = f"{label}: {view.reason}"
    return (
        f'<span class="mark mark-{h(view.status)}" title="{h(view.status)}">'
        f"{icon(name)}<span>{h(label)}</span></span>"
    )


def message_html(view: MessageView) -> str:
    """One message row: its bubble (or card, carousel ...) and a meta line with the status."""
    kind, body = _content(view.content, view.msg_id)
    side = "bot" if view.from_bot else "user"
    meta = [time_html(view.created)]
    if view.template:
        meta.append(f'<span class="tag" title="Dotgo template">template {h(view.template)}</span>')
    if isinstance(view.content, ResponseView) and view.content.postback:
        meta.append(
            f'<span class="tag postback" title="postback data">{h(view.content.postback)}</span>'
        )
    meta.append(_mark(view))
    return (
        f'<div class="msg {side} kind-{kind} status-{h(view.status)}" '
        f'id="{h(dom_id(view.msg_id))}" data-msg="{h(view.msg_id)}" '
        f'data-status="{h(view.status)}" data-side="{side}">'
        f'{body}<div class="meta">{"".join(meta)}</div></div>'
    )


# ------------------------------------------------------------------ traffic


def pretty_body(text: str) -> str:
    """A logged body for reading: indented when it is JSON (within the bounds of
    :func:`~rcskit.formats.jsonin.load_json`), as logged otherwise."""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            value: Any = load_json(stripped)
        except JsonInputError:
            return text
        return json.dumps(value, indent=2, ensure_ascii=False)
    return text


def _status_class(entry: LogEntry) -> str:
    if entry.status is None or (entry.kind == "webhook" and entry.error):
        return "err"
    if entry.status >= 500:
        return "err"
    if entry.status >= 400:
        return "warn"
    return "ok"


def short_target(entry: LogEntry) -> str:
    """The part of a logged target worth a glance: a webhook's path, an API call's path after
    the bot (``.../messages/async``), or the whole path."""
    parts = urlsplit(entry.target)
    path = parts.path or "/"
    if entry.kind != "webhook":
        marker = "/bot/v1/"
        at = path.find(marker)
        if at >= 0:
            rest = path[at + len(marker) :].split("/", 1)
            path = "…/" + rest[1] if len(rest) == 2 else path
    return path + (f"?{parts.query}" if parts.query else "")


def log_entry_html(entry: LogEntry) -> str:
    """One request-log entry as a collapsible row of the traffic panel."""
    webhook = entry.kind == "webhook"
    direction = "Webhook" if webhook else "API"
    arrow = "&larr;" if webhook else "&rarr;"
    status = str(entry.status) if entry.status is not None else "no answer"
    css = _status_class(entry)
    at = datetime.fromtimestamp(entry.at, UTC)
    facts = []
    if entry.event:
        facts.append(f"event <b>{h(entry.event)}</b>")
    if entry.attempt:
        facts.append(f"attempt {entry.attempt}")
    facts.append(f"{entry.duration_ms:.1f} ms")
    if entry.flavour and not webhook:
        facts.append(f"flavour {h(entry.flavour)}")
    details = [
        f'<p class="entry-url"><code>{h(entry.method)} {h(entry.target)}</code></p>',
        f'<p class="facts">{" · ".join(facts)}</p>',
    ]
    if entry.error:
        details.append(f'<p class="entry-error">{h(entry.error)}</p>')
    if entry.request_body:
        details.append(f"<h4>Request body</h4><pre>{h(pretty_body(entry.request_body))}</pre>")
    if entry.response_body:
        details.append(f"<h4>Response body</h4><pre>{h(pretty_body(entry.response_body))}</pre>")
    label = f'<span class="entry-event">{h(entry.event)}</span>' if entry.event else ""
    return (
        f'<li class="entry {"webhook" if webhook else "api"} {css}" data-seq="{entry.seq}" '
        f'data-kind="{h(entry.kind)}"><details><summary>'
        f'<span class="entry-dir" title="{direction}">{arrow} {direction}</span>'
        f'<span class="entry-method">{h(entry.method)}</span>'
        f'<span class="entry-target" title="{h(entry.target)}">{h(short_target(entry))}</span>'
        f"{label}"
        f'<span class="entry-status {css}">{h(status)}</span>'
        f'<time class="entry-time" datetime="{at:%Y-%m-%dT%H:%M:%S.%fZ}">{at:%H:%M:%S}</time>'
        f'</summary><div class="entry-body">{"".join(details)}</div></details></li>'
    )
