"""The GSMA MaaP chatbot API wire format (GSMA FNW.11 / RCC.07 ``RCSMessage``).

Used by the Dotgo GSMA API (seed 002 section 2), Orange BotHub (seed 001) and generic MaaP
platforms (seed 003). The body is::

    {"msgId"?: ..., "RCSMessage": {...},
     "messageContact": {"userContact" | "chatId"}, "ttl" | "expireTime"}

``encode`` builds it from a neutral :class:`~rcskit.message.Message` without emitting nulls;
``decode`` reads one back, rejecting unknown fields with their JSON path so that nothing a user
wrote is lost on conversion. What GSMA cannot express (Google's webview mode, uploaded-file
ids in file messages, ``forceRefresh``) raises :class:`~rcskit.errors.UnsupportedFeature`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import InvalidMessage, UnsupportedFeature, Violation
from ..message import (
    Audio,
    Card,
    CardWidth,
    Carousel,
    ComposeRecordingMessage,
    ComposeTextMessage,
    Contact,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    DisableAnonymization,
    EnableDisplayedNotifications,
    Envelope,
    File,
    GeolocationPush,
    Height,
    ImageAlignment,
    IsTyping,
    Media,
    Message,
    OpenUrl,
    Orientation,
    RecordingType,
    Reply,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    Template,
    Text,
    UrlApplication,
)
from ._reader import WireReader, in_json_terms

__all__ = ["FORMAT_NAME", "decode", "encode", "encode_suggestion", "wire_path"]

FORMAT_NAME = "GSMA MaaP format"

_HEIGHT_OUT = {
    Height.SHORT: "SHORT_HEIGHT",
    Height.MEDIUM: "MEDIUM_HEIGHT",
    Height.TALL: "TALL_HEIGHT",
}
_HEIGHT_IN = {v: k for k, v in _HEIGHT_OUT.items()}
_WIDTH_OUT = {CardWidth.SMALL: "SMALL_WIDTH", CardWidth.MEDIUM: "MEDIUM_WIDTH"}
_WIDTH_IN = {v: k for k, v in _WIDTH_OUT.items()}
_ORIENT_IN = {o.value: o for o in Orientation}
_ALIGN_IN = {a.value: a for a in ImageAlignment}
_RECORDING_IN = {r.value: r for r in RecordingType}


# ================================================================ encode


def encode(message: Message, to: Contact | None = None) -> dict[str, Any]:
    """Build the GSMA request body for ``message`` (and ``to``, when given).

    >>> body = encode(Message("hello world"), Contact("+914253136789"))
    >>> body["RCSMessage"], body["messageContact"]
    ({'textMessage': 'hello world'}, {'userContact': '+914253136789'})

    Anything but a :class:`~rcskit.message.Message` (and a :class:`~rcskit.message.Contact`
    or ``None`` for ``to``) raises :class:`~rcskit.errors.InvalidMessage` naming it.
    """
    if not isinstance(message, Message):
        raise InvalidMessage([Violation("message", message, "must be a rcskit.message.Message")])
    if to is not None and not isinstance(to, Contact):
        raise InvalidMessage([Violation("to", to, "must be a rcskit.message.Contact or None")])
    body: dict[str, Any] = {}
    if message.in_reply_to is not None:
        body["msgId"] = message.in_reply_to
    rcs: dict[str, Any] = {}
    if message.message_id is not None:
        rcs["msgId"] = message.message_id
    if message.traffic_type is not None:
        rcs["trafficType"] = message.traffic_type
    _encode_content(message, rcs)
    if message.suggestions:
        rcs["suggestedChipList"] = {
            "suggestions": [encode_suggestion(s) for s in message.suggestions]
        }
    body["RCSMessage"] = rcs
    if to is not None:
        body["messageContact"] = encode_contact(to)
    if message.ttl is not None:
        body["ttl"] = message.ttl
    if message.expire_time is not None:
        body["expireTime"] = message.expire_time
    return body


def encode_contact(to: Contact) -> dict[str, str]:
    """The ``messageContact`` object: ``userContact`` (MSISDN) and/or ``chatId``."""
    out: dict[str, str] = {}
    if to.msisdn is not None:
        out["userContact"] = to.msisdn
    if to.chat_id is not None:
        out["chatId"] = to.chat_id
    return out


def _encode_content(message: Message, rcs: dict[str, Any]) -> None:
    c = message.content
    if isinstance(c, Text):
        rcs["textMessage"] = c.text
    elif isinstance(c, Card):
        rcs["richcardMessage"] = {"message": {"generalPurposeCard": _card(c, standalone=True)}}
    elif isinstance(c, Carousel):
        layout: dict[str, str] = {}
        if c.orientation is not None:
            layout["cardOrientation"] = c.orientation.value
        if c.card_width is not None:
            layout["cardWidth"] = _WIDTH_OUT[c.card_width]
        carousel: dict[str, Any] = {}
        if layout:
            carousel["layout"] = layout
        carousel["content"] = [_card_content(card) for card in c.cards]
        rcs["richcardMessage"] = {"message": {"generalPurposeCardCarousel": carousel}}
    elif isinstance(c, File):
        rcs["fileMessage"] = _file(c)
    elif isinstance(c, Template):
        rcs["templateMessage"] = {
            "templateCode": c.code,
            "customParams": json.dumps(c.params, separators=(",", ":"), ensure_ascii=False),
        }
    elif isinstance(c, Audio):
        rcs["audioMessage"] = _drop_none(
            fileUrl=c.url,
            fileName=c.name,
            fileMIMEType=c.mime_type,
            fileSize=c.size,
            playingLength=c.playing_length,
        )
    elif isinstance(c, GeolocationPush):
        rcs["geolocationPushMessage"] = _drop_none(
            pos=c.pos,
            label=c.label,
            timestamp=c.timestamp,
            expiry=c.expiry,
            timeOffset=c.time_offset,
            radius=c.radius,
        )
    elif isinstance(c, IsTyping):
        rcs["isTyping"] = "active" if c.active else "idle"
    else:  # pragma: no cover - the Content union is closed
        raise UnsupportedFeature(type(c).__name__, FORMAT_NAME)


def _drop_none(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _file(f: File) -> dict[str, Any]:
    if f.file_id is not None:
        raise UnsupportedFeature(
            "file message by uploaded file id",
            FORMAT_NAME,
            "GSMA file messages carry a fileUrl: use the URL the upload returned",
        )
    if f.thumbnail_file_id is not None:
        raise UnsupportedFeature("thumbnail by uploaded file id", FORMAT_NAME, "use thumbnail_url")
    if f.force_refresh:
        raise UnsupportedFeature("forceRefresh (Google contentInfo)", FORMAT_NAME)
    return _drop_none(
        fileUrl=f.url,
        fileName=f.name,
        fileMIMEType=f.mime_type,
        fileSize=f.size,
        thumbnailUrl=f.thumbnail_url,
        thumbnailFileName=f.thumbnail_name,
        thumbnailMIMEType=f.thumbnail_mime_type,
        thumbnailFileSize=f.thumbnail_size,
    )


def _media(m: Media) -> dict[str, Any]:
    if m.file_id is not None or m.thumbnail_file_id is not None:
        raise UnsupportedFeature(
            "rich card media by uploaded file id", FORMAT_NAME, "use the file's URL"
        )
    if m.force_refresh:
        raise UnsupportedFeature("forceRefresh (Google contentInfo)", FORMAT_NAME)
    out: dict[str, Any] = {"mediaUrl": m.url}
    if m.content_type is not None:
        out["mediaContentType"] = m.content_type
    if m.size is not None:
        out["mediaFileSize"] = m.size
    if m.thumbnail_url is not None:
        out["thumbnailUrl"] = m.thumbnail_url
    if m.thumbnail_content_type is not None:
        out["thumbnailContentType"] = m.thumbnail_content_type
    if m.thumbnail_size is not None:
        out["thumbnailFileSize"] = m.thumbnail_size
    if m.height is not None:
        out["height"] = _HEIGHT_OUT[m.height]
    if m.content_description is not None:
        out["contentDescription"] = m.content_description
    return out


def _card_content(card: Card) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if card.media is not None:
        out["media"] = _media(card.media)
    if card.title is not None:
        out["title"] = card.title
    if card.description is not None:
        out["description"] = card.description
    if card.suggestions:
        out["suggestions"] = [encode_suggestion(s) for s in card.suggestions]
    return out


def _card(card: Card, *, standalone: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    layout: dict[str, str] = {}
    if card.orientation is not None:
        layout["cardOrientation"] = card.orientation.value
    if card.image_alignment is not None:
        layout["imageAlignment"] = card.image_alignment.value
    if layout:
        out["layout"] = layout
    out["content"] = _card_content(card)
    return out


def encode_suggestion(s: Any) -> dict[str, Any]:
    """One suggestion (reply or action) as its GSMA JSON object."""
    if isinstance(s, Reply):
        reply: dict[str, Any] = {"displayText": s.text}
        if s.postback_data is not None:
            reply["postback"] = {"data": s.postback_data}
        return {"reply": reply}
    action: dict[str, Any] = {}
    inner_fallback = True
    if isinstance(s, OpenUrl):
        if s.application is UrlApplication.WEBVIEW or s.webview_view_mode is not None:
            raise UnsupportedFeature("open URL in webview mode", FORMAT_NAME)
        if s.description is not None:
            raise UnsupportedFeature("open URL webview description", FORMAT_NAME)
        action["urlAction"] = {"openUrl": {"url": s.url}}
        inner_fallback = False
    elif isinstance(s, DialPhoneNumber):
        action["dialerAction"] = {"dialPhoneNumber": _with_fb({"phoneNumber": s.phone_number}, s)}
    elif isinstance(s, DialEnrichedCall):
        inner = {"phoneNumber": s.phone_number}
        if s.subject is not None:
            inner["subject"] = s.subject
        action["dialerAction"] = {"dialEnrichedCall": _with_fb(inner, s)}
    elif isinstance(s, DialVideoCall):
        action["dialerAction"] = {"dialVideoCall": _with_fb({"phoneNumber": s.phone_number}, s)}
    elif isinstance(s, ShowLocation):
        location: dict[str, Any] = {}
        if s.latitude is not None:
            location["latitude"] = s.latitude
            location["longitude"] = s.longitude
        if s.label is not None:
            location["label"] = s.label
        if s.query is not None:
            location["query"] = s.query
        action["mapAction"] = {"showLocation": _with_fb({"location": location}, s)}
    elif isinstance(s, RequestLocationPush):
        action["mapAction"] = {"requestLocationPush": {}}
        inner_fallback = False
    elif isinstance(s, CreateCalendarEvent):
        event = {"startTime": s.start_time, "endTime": s.end_time, "title": s.title}
        if s.description is not None:
            event["description"] = s.description
        action["calendarAction"] = {"createCalendarEvent": _with_fb(event, s)}
    elif isinstance(s, ComposeTextMessage):
        action["composeAction"] = {
            "composeTextMessage": {"phoneNumber": s.phone_number, "text": s.draft}
        }
        inner_fallback = False
    elif isinstance(s, ComposeRecordingMessage):
        action["composeAction"] = {
            "composeRecordingMessage": {
                "phoneNumber": s.phone_number,
                "type": s.recording_type.value,
            }
        }
        inner_fallback = False
    elif isinstance(s, RequestDeviceSpecifics):
        action["deviceAction"] = {"requestDeviceSpecifics": {}}
        inner_fallback = False
    elif isinstance(s, DisableAnonymization):
        action["settingsAction"] = {"disableAnonymization": {}}
        inner_fallback = False
    elif isinstance(s, EnableDisplayedNotifications):
        action["settingsAction"] = {"enableDisplayedNotifications": {}}
        inner_fallback = False
    else:  # pragma: no cover - the Suggestion union is closed
        raise UnsupportedFeature(type(s).__name__, FORMAT_NAME)
    action["displayText"] = s.text
    if s.postback_data is not None:
        action["postback"] = {"data": s.postback_data}
    if not inner_fallback and s.fallback_url is not None:
        action["fallbackUrl"] = s.fallback_url
    return {"action": action}


def _with_fb(inner: dict[str, Any], s: Any) -> dict[str, Any]:
    if s.fallback_url is not None:
        inner["fallbackUrl"] = s.fallback_url
    return inner


# ================================================================ decode

_BODY_KEYS = frozenset({"msgId", "RCSMessage", "messageContact", "ttl", "expireTime"})
_RCS_CONTENT = (
    "textMessage",
    "fileMessage",
    "audioMessage",
    "geolocationPushMessage",
    "richcardMessage",
    "templateMessage",
    "isTyping",
)
_RCS_KEYS = frozenset({"msgId", "trafficType", "suggestedChipList", *_RCS_CONTENT})
_FILE_KEYS = {
    "fileUrl": "url",
    "fileName": "name",
    "fileMIMEType": "mime_type",
    "fileSize": "size",
    "thumbnailUrl": "thumbnail_url",
    "thumbnailFileName": "thumbnail_name",
    "thumbnailMIMEType": "thumbnail_mime_type",
    "thumbnailFileSize": "thumbnail_size",
}
_AUDIO_KEYS = {
    "fileUrl": "url",
    "fileName": "name",
    "fileMIMEType": "mime_type",
    "fileSize": "size",
    "playingLength": "playing_length",
}
_GEO_KEYS = {
    "pos": "pos",
    "label": "label",
    "timestamp": "timestamp",
    "expiry": "expiry",
    "timeOffset": "time_offset",
    "radius": "radius",
}
_MEDIA_KEYS = {
    "mediaUrl": "url",
    "mediaContentType": "content_type",
    "mediaFileSize": "size",
    "thumbnailUrl": "thumbnail_url",
    "thumbnailContentType": "thumbnail_content_type",
    "thumbnailFileSize": "thumbnail_size",
    "height": "height",
    "contentDescription": "content_description",
}
_INT_FIELDS = frozenset({"size", "thumbnail_size", "playing_length", "time_offset"})
_NUM_FIELDS = frozenset({"radius"})


def decode(body: Mapping[str, Any]) -> Envelope:
    """Read a GSMA request body back into an :class:`~rcskit.message.Envelope`.

    A bare ``RCSMessage`` object (without the wrapper) is accepted too. Every unknown field and
    wrong type is reported together in one :class:`~rcskit.errors.InvalidMessage`.
    """
    r = WireReader()
    body = r.obj(body, "")
    if "RCSMessage" not in body and any(k in body for k in _RCS_CONTENT):
        body = {"RCSMessage": body}
    r.only(body, "", _BODY_KEYS)
    rcs = r.obj(body.get("RCSMessage"), "RCSMessage")
    r.only(rcs, "RCSMessage", _RCS_KEYS)
    present = [k for k in _RCS_CONTENT if k in rcs]
    if len(present) != 1:
        rule = "exactly one content member is required, found " + (
            ", ".join(present) if present else "none"
        )
        r.problem(
            "RCSMessage", ", ".join(present) or None, f"{rule} (one of {', '.join(_RCS_CONTENT)})"
        )
        r.raise_if_problems()
    content = _decode_content(r, present[0], rcs[present[0]], f"RCSMessage.{present[0]}")
    suggestions: list[Any] = []
    if "suggestedChipList" in rcs:
        chips = r.obj(rcs["suggestedChipList"], "RCSMessage.suggestedChipList")
        r.only(chips, "RCSMessage.suggestedChipList", ("suggestions",))
        path = "RCSMessage.suggestedChipList.suggestions"
        for i, item in enumerate(r.array(chips.get("suggestions", []), path)):
            suggestions.append(_decode_suggestion(r, item, f"{path}[{i}]"))
    to = None
    if "messageContact" in body:
        contact = r.obj(body["messageContact"], "messageContact")
        r.only(contact, "messageContact", ("userContact", "chatId"))
        user = r.str_(contact, "userContact", "messageContact")
        chat = r.str_(contact, "chatId", "messageContact")
        if user is None and chat is None:
            r.problem("messageContact", contact, "needs userContact or chatId")
        else:
            try:
                to = Contact(msisdn=user, chat_id=chat)
            except InvalidMessage as err:
                # normalize_msisdn names "msisdn" alone; the model names "Contact.chat_id".
                for v in err.violations:
                    member = "chatId" if v.path.endswith("chat_id") else "userContact"
                    r.problem(f"messageContact.{member}", v.value, v.limit)
    fields = {
        "traffic_type": r.str_(rcs, "trafficType", "RCSMessage"),
        "message_id": r.str_(rcs, "msgId", "RCSMessage"),
        "in_reply_to": r.str_(body, "msgId", ""),
        "ttl": r.str_(body, "ttl", ""),
        "expire_time": r.str_(body, "expireTime", ""),
    }
    if fields["ttl"] is not None and fields["expire_time"] is not None:
        r.problem("ttl", fields["ttl"], "give ttl or expireTime, never both")
    r.raise_if_problems()
    message = r.build(
        Message,
        "",
        _MESSAGE_FIELDS,
        content,
        suggestions=suggestions,
        **{k: v for k, v in fields.items() if v is not None},
    )
    r.raise_if_problems()
    assert message is not None  # build() returns None only with problems recorded
    return Envelope(message=message, to=to)


def _mapped(
    r: WireReader, d: Mapping[str, Any], path: str, keys: Mapping[str, str]
) -> dict[str, Any]:
    r.only(d, path, keys)
    out: dict[str, Any] = {}
    for wire, field in keys.items():
        if field in _INT_FIELDS:
            value = r.int_(d, wire, path)
        elif field in _NUM_FIELDS:
            value = r.num(d, wire, path)
        elif field == "height":
            value = r.enum(d, wire, path, _HEIGHT_IN)
        else:
            value = r.str_(d, wire, path)
        if value is not None:
            out[field] = value
    return out


def _decode_content(r: WireReader, key: str, value: Any, path: str) -> Any:
    if key == "textMessage":
        if not isinstance(value, str):
            r.problem(path, value, "must be a string")
            return Text("")
        return r.build(Text, path, {"text": ""}, value)
    if key == "isTyping":
        if value not in ("active", "idle"):
            r.problem(path, value, "must be active or idle")
        return IsTyping(active=value != "idle")
    d = r.obj(value, path)
    if key == "fileMessage":
        fields = _mapped(r, d, path, _FILE_KEYS)
        if "url" not in fields:
            r.problem(f"{path}.fileUrl", None, "required field is missing")
            r.raise_if_problems()
        return r.build(File, path, _CONTENT_FIELDS[File], **fields)
    if key == "audioMessage":
        fields = _mapped(r, d, path, _AUDIO_KEYS)
        if "url" not in fields:
            r.problem(f"{path}.fileUrl", None, "required field is missing")
            r.raise_if_problems()
        return r.build(Audio, path, _CONTENT_FIELDS[Audio], **fields)
    if key == "geolocationPushMessage":
        fields = _mapped(r, d, path, _GEO_KEYS)
        if "pos" not in fields:
            r.problem(f"{path}.pos", None, "required field is missing")
            r.raise_if_problems()
        return r.build(GeolocationPush, path, _CONTENT_FIELDS[GeolocationPush], **fields)
    if key == "templateMessage":
        r.only(d, path, ("templateCode", "customParams"))
        code = r.str_(d, "templateCode", path, required=True)
        raw = d.get("customParams")
        params: Any = {}
        if isinstance(raw, str):
            try:
                params = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError:
                r.problem(f"{path}.customParams", raw, "must be a JSON object in a string")
        elif isinstance(raw, Mapping):
            params = dict(raw)
        elif raw is not None:
            r.problem(f"{path}.customParams", raw, "must be a JSON object in a string")
        if not isinstance(params, dict):
            r.problem(f"{path}.customParams", raw, "must encode a JSON object")
            params = {}
        r.raise_if_problems()
        return r.build(Template, path, _CONTENT_FIELDS[Template], code, params)
    # richcardMessage
    r.only(d, path, ("message",))
    inner = r.obj(d.get("message"), f"{path}.message")
    r.only(inner, f"{path}.message", ("generalPurposeCard", "generalPurposeCardCarousel"))
    if "generalPurposeCard" in inner:
        return _decode_card(
            r, inner["generalPurposeCard"], f"{path}.message.generalPurposeCard", standalone=True
        )
    if "generalPurposeCardCarousel" in inner:
        cpath = f"{path}.message.generalPurposeCardCarousel"
        cd = r.obj(inner["generalPurposeCardCarousel"], cpath)
        r.only(cd, cpath, ("layout", "content"))
        layout = r.obj(cd.get("layout", {}), f"{cpath}.layout")
        r.only(layout, f"{cpath}.layout", ("cardOrientation", "cardWidth"))
        orientation = r.enum(layout, "cardOrientation", f"{cpath}.layout", _ORIENT_IN)
        width = r.enum(layout, "cardWidth", f"{cpath}.layout", _WIDTH_IN)
        cards = [
            _decode_card_content(r, item, f"{cpath}.content[{i}]")
            for i, item in enumerate(r.array(cd.get("content"), f"{cpath}.content"))
        ]
        built = [
            r.build(Card, f"{cpath}.content[{i}]", _CARD_CONTENT_FIELDS, **c)
            for i, c in enumerate(cards)
        ]
        r.raise_if_problems()
        return r.build(
            Carousel,
            cpath,
            {"card_width": "layout.cardWidth", "orientation": "layout.cardOrientation"},
            cards=built,
            card_width=width,
            orientation=orientation,
        )
    r.problem(f"{path}.message", inner, "needs generalPurposeCard or generalPurposeCardCarousel")
    r.raise_if_problems()
    raise AssertionError("unreachable")  # pragma: no cover


def _decode_card(r: WireReader, value: Any, path: str, *, standalone: bool) -> Card | None:
    d = r.obj(value, path)
    r.only(d, path, ("layout", "content"))
    layout = r.obj(d.get("layout", {}), f"{path}.layout")
    r.only(layout, f"{path}.layout", ("cardOrientation", "imageAlignment"))
    fields = _decode_card_content(r, d.get("content"), f"{path}.content")
    orientation = r.enum(layout, "cardOrientation", f"{path}.layout", _ORIENT_IN)
    alignment = r.enum(layout, "imageAlignment", f"{path}.layout", _ALIGN_IN)
    r.raise_if_problems()
    return r.build(
        Card,
        path,
        _CARD_FIELDS,
        **fields,
        orientation=orientation,
        image_alignment=alignment,
    )


def _decode_card_content(r: WireReader, value: Any, path: str) -> dict[str, Any]:
    d = r.obj(value, path)
    r.only(d, path, ("media", "title", "description", "suggestions"))
    out: dict[str, Any] = {}
    if "media" in d:
        mpath = f"{path}.media"
        media = _mapped(r, r.obj(d["media"], mpath), mpath, _MEDIA_KEYS)
        if "url" not in media:
            r.problem(f"{mpath}.mediaUrl", None, "required field is missing")
        else:
            out["media"] = r.build(Media, mpath, _MEDIA_FIELDS, **media)
    for key in ("title", "description"):
        value = r.str_(d, key, path)
        if value is not None:
            out[key] = value
    if "suggestions" in d:
        spath = f"{path}.suggestions"
        out["suggestions"] = [
            _decode_suggestion(r, item, f"{spath}[{i}]")
            for i, item in enumerate(r.array(d["suggestions"], spath))
        ]
    if not out.get("media") and "title" not in out and "description" not in out:
        r.problem(path, value, "a card needs at least one of media, title or description")
    return out


_ACTION_MEMBERS: dict[str, tuple[str, ...]] = {
    "urlAction": ("openUrl",),
    "dialerAction": ("dialPhoneNumber", "dialEnrichedCall", "dialVideoCall"),
    "mapAction": ("showLocation", "requestLocationPush"),
    "calendarAction": ("createCalendarEvent",),
    "composeAction": ("composeTextMessage", "composeRecordingMessage"),
    "deviceAction": ("requestDeviceSpecifics",),
    "settingsAction": ("disableAnonymization", "enableDisplayedNotifications"),
}


def _postback(r: WireReader, d: Mapping[str, Any], path: str) -> str | None:
    if "postback" not in d:
        return None
    pb = r.obj(d["postback"], f"{path}.postback")
    r.only(pb, f"{path}.postback", ("data",))
    value: str | None = r.str_(pb, "data", f"{path}.postback")
    return value


def _decode_suggestion(r: WireReader, value: Any, path: str) -> Any:
    d = r.obj(value, path)
    kinds = [k for k in ("reply", "action") if k in d]
    r.only(d, path, ("reply", "action"))
    if len(kinds) != 1:
        r.problem(path, value, "a suggestion is exactly one of reply or action")
        return None
    if kinds[0] == "reply":
        rpath = f"{path}.reply"
        reply = r.obj(d["reply"], rpath)
        r.only(reply, rpath, ("displayText", "postback"))
        text = r.str_(reply, "displayText", rpath, required=True)
        postback = _postback(r, reply, rpath)
        if text is None:
            return None
        return r.build(Reply, rpath, _SUGGESTION_FIELD, text, postback)
    apath = f"{path}.action"
    a = r.obj(d["action"], apath)
    groups = [g for g in _ACTION_MEMBERS if g in a]
    r.only(a, apath, ("displayText", "postback", "fallbackUrl", *_ACTION_MEMBERS))
    text = r.str_(a, "displayText", apath, required=True)
    postback = _postback(r, a, apath)
    outer_fb = r.str_(a, "fallbackUrl", apath)
    if len(groups) != 1:
        r.problem(apath, value, "an action has exactly one of " + ", ".join(_ACTION_MEMBERS))
        return None
    group = groups[0]
    gpath = f"{apath}.{group}"
    g = r.obj(a[group], gpath)
    r.only(g, gpath, _ACTION_MEMBERS[group])
    members = [m for m in _ACTION_MEMBERS[group] if m in g]
    if len(members) != 1:
        r.problem(gpath, g, "needs exactly one of " + ", ".join(_ACTION_MEMBERS[group]))
        return None
    member = members[0]
    mpath = f"{gpath}.{member}"
    m = r.obj(g[member], mpath)
    common: dict[str, Any] = {"text": text, "postback_data": postback}

    def fb(keys: tuple[str, ...]) -> None:
        r.only(m, mpath, (*keys, "fallbackUrl"))
        inner = r.str_(m, "fallbackUrl", mpath)
        if inner is not None or outer_fb is not None:
            common["fallback_url"] = inner if inner is not None else outer_fb

    if text is None:
        return None
    try:
        if member == "openUrl":
            r.only(m, mpath, ("url",))
            if outer_fb is not None:
                common["fallback_url"] = outer_fb
            url = r.str_(m, "url", mpath, required=True)
            return OpenUrl(url=url, **common) if url is not None else None
        if member in ("dialPhoneNumber", "dialVideoCall"):
            fb(("phoneNumber",))
            phone = r.str_(m, "phoneNumber", mpath, required=True)
            cls = DialPhoneNumber if member == "dialPhoneNumber" else DialVideoCall
            return cls(phone_number=phone, **common) if phone is not None else None
        if member == "dialEnrichedCall":
            fb(("phoneNumber", "subject"))
            phone = r.str_(m, "phoneNumber", mpath, required=True)
            subject = r.str_(m, "subject", mpath)
            if phone is None:
                return None
            return DialEnrichedCall(phone_number=phone, subject=subject, **common)
        if member == "showLocation":
            fb(("location",))
            lpath = f"{mpath}.location"
            loc = r.obj(m.get("location"), lpath)
            r.only(loc, lpath, ("latitude", "longitude", "label", "query"))
            return ShowLocation(
                latitude=r.num(loc, "latitude", lpath),
                longitude=r.num(loc, "longitude", lpath),
                label=r.str_(loc, "label", lpath),
                query=r.str_(loc, "query", lpath),
                **common,
            )
        if member == "createCalendarEvent":
            fb(("startTime", "endTime", "title", "description"))
            start = r.str_(m, "startTime", mpath, required=True)
            end = r.str_(m, "endTime", mpath, required=True)
            title = r.str_(m, "title", mpath, required=True)
            if start is None or end is None or title is None:
                return None
            return CreateCalendarEvent(
                start_time=start,
                end_time=end,
                title=title,
                description=r.str_(m, "description", mpath),
                **common,
            )
        if outer_fb is not None:
            common["fallback_url"] = outer_fb
        if member == "composeTextMessage":
            r.only(m, mpath, ("phoneNumber", "text"))
            phone = r.str_(m, "phoneNumber", mpath, required=True)
            draft = r.str_(m, "text", mpath, required=True)
            if phone is None or draft is None:
                return None
            return ComposeTextMessage(phone_number=phone, draft=draft, **common)
        if member == "composeRecordingMessage":
            r.only(m, mpath, ("phoneNumber", "type"))
            phone = r.str_(m, "phoneNumber", mpath, required=True)
            kind = r.enum(m, "type", mpath, _RECORDING_IN)
            if phone is None or kind is None:
                if kind is None and "type" not in m:
                    r.problem(f"{mpath}.type", None, "required field is missing")
                return None
            return ComposeRecordingMessage(phone_number=phone, recording_type=kind, **common)
        r.only(m, mpath, ())
        simple = {
            "requestLocationPush": RequestLocationPush,
            "requestDeviceSpecifics": RequestDeviceSpecifics,
            "disableAnonymization": DisableAnonymization,
            "enableDisplayedNotifications": EnableDisplayedNotifications,
        }[member]
        return simple(**common)
    except InvalidMessage as err:
        fields = _ACTION_FIELD[_MEMBER_CLASS[member]][1]
        for v in in_json_terms(err, mpath, {**fields, "fallback_url": "fallbackUrl"}):
            r.problem(v.path, v.value, v.limit)
        return None


# ================================================================ paths

_SUGGESTION_FIELD = {
    "text": "displayText",
    "postback_data": "postback.data",
}
_ACTION_FIELD: dict[type, tuple[str, dict[str, str]]] = {
    OpenUrl: ("urlAction.openUrl", {"url": "url"}),
    DialPhoneNumber: ("dialerAction.dialPhoneNumber", {"phone_number": "phoneNumber"}),
    DialEnrichedCall: (
        "dialerAction.dialEnrichedCall",
        {"phone_number": "phoneNumber", "subject": "subject"},
    ),
    DialVideoCall: ("dialerAction.dialVideoCall", {"phone_number": "phoneNumber"}),
    ShowLocation: (
        "mapAction.showLocation",
        {
            "latitude": "location.latitude",
            "longitude": "location.longitude",
            "label": "location.label",
            "query": "location.query",
        },
    ),
    RequestLocationPush: ("mapAction.requestLocationPush", {}),
    CreateCalendarEvent: (
        "calendarAction.createCalendarEvent",
        {
            "start_time": "startTime",
            "end_time": "endTime",
            "title": "title",
            "description": "description",
        },
    ),
    ComposeTextMessage: (
        "composeAction.composeTextMessage",
        {"phone_number": "phoneNumber", "draft": "text"},
    ),
    ComposeRecordingMessage: (
        "composeAction.composeRecordingMessage",
        {"phone_number": "phoneNumber", "recording_type": "type"},
    ),
    RequestDeviceSpecifics: ("deviceAction.requestDeviceSpecifics", {}),
    DisableAnonymization: ("settingsAction.disableAnonymization", {}),
    EnableDisplayedNotifications: ("settingsAction.enableDisplayedNotifications", {}),
}
_CONTENT_KEY = {
    Text: "textMessage",
    File: "fileMessage",
    Audio: "audioMessage",
    GeolocationPush: "geolocationPushMessage",
    Template: "templateMessage",
    IsTyping: "isTyping",
}
_CONTENT_FIELDS: dict[type, dict[str, str]] = {
    File: {v: k for k, v in _FILE_KEYS.items()},
    Audio: {v: k for k, v in _AUDIO_KEYS.items()},
    GeolocationPush: {v: k for k, v in _GEO_KEYS.items()},
    Template: {"code": "templateCode", "params": "customParams"},
}
_MEDIA_FIELDS = {v: k for k, v in _MEDIA_KEYS.items()}
_CARD_CONTENT_FIELDS = {
    "title": "title",
    "description": "description",
    "media": "media",
    "suggestions": "suggestions",
}
_CARD_FIELDS = {
    **{k: f"content.{v}" for k, v in _CARD_CONTENT_FIELDS.items()},
    "orientation": "layout.cardOrientation",
    "image_alignment": "layout.imageAlignment",
}
_MEMBER_CLASS: dict[str, type] = {
    member.rsplit(".", 1)[1]: cls for cls, (member, _) in _ACTION_FIELD.items()
}
_ENVELOPE_FIELDS = {
    "ttl": "ttl",
    "expire_time": "expireTime",
    "in_reply_to": "msgId",
    "traffic_type": "RCSMessage.trafficType",
    "message_id": "RCSMessage.msgId",
}
_MESSAGE_FIELDS = {
    **_ENVELOPE_FIELDS,
    "suggestions": "RCSMessage.suggestedChipList",
    "content": "RCSMessage",
}


def wire_path(message: Message, path: Sequence[str | int]) -> str:
    """Translate a neutral-model path (as ``rcskit.limits`` reports it) to this format's JSON path.

    ``("content", "cards", 1, "suggestions", 0, "text")`` on a carousel becomes
    ``RCSMessage.richcardMessage.message.generalPurposeCardCarousel.content[1].suggestions[0]
    .reply.displayText`` (or ``.action.displayText``).
    """
    parts = list(path)
    if not parts:
        return "(body)"
    head = parts.pop(0)
    if isinstance(head, str) and head in _ENVELOPE_FIELDS:
        return _ENVELOPE_FIELDS[head]
    if head == "suggestions":
        return _suggestion_path(
            "RCSMessage.suggestedChipList.suggestions", message.suggestions, parts
        )
    if head != "content":
        return ".".join(str(p) for p in path)
    c = message.content
    if isinstance(c, Card):
        return _card_path("RCSMessage.richcardMessage.message.generalPurposeCard", c, parts, True)
    if isinstance(c, Carousel):
        base = "RCSMessage.richcardMessage.message.generalPurposeCardCarousel"
        if not parts:
            return base
        field = parts.pop(0)
        if field == "cards":
            if not parts:
                return f"{base}.content"
            index = parts.pop(0)
            card = c.cards[index] if isinstance(index, int) and index < len(c.cards) else None
            return _card_path(f"{base}.content[{index}]", card, parts, False)
        if field == "card_width":
            return f"{base}.layout.cardWidth"
        if field == "orientation":
            return f"{base}.layout.cardOrientation"
        return f"{base}.{field}"
    key = _CONTENT_KEY.get(type(c), "")
    base = f"RCSMessage.{key}"
    if not parts or isinstance(c, Text | IsTyping):
        return base
    field = str(parts.pop(0))
    mapped = _CONTENT_FIELDS.get(type(c), {}).get(field, field)
    return ".".join([base, mapped, *(str(p) for p in parts)])


def _card_path(base: str, card: Card | None, parts: list[str | int], standalone: bool) -> str:
    if not parts:
        return base
    field = parts.pop(0)
    content = f"{base}.content" if standalone else base
    if field == "orientation":
        return f"{base}.layout.cardOrientation"
    if field == "image_alignment":
        return f"{base}.layout.imageAlignment"
    if field == "media":
        if not parts:
            return f"{content}.media"
        sub = str(parts.pop(0))
        return f"{content}.media.{_MEDIA_FIELDS.get(sub, sub)}"
    if field == "suggestions":
        return _suggestion_path(f"{content}.suggestions", card.suggestions if card else (), parts)
    return f"{content}.{field}"


def _suggestion_path(base: str, suggestions: Sequence[Any], parts: list[str | int]) -> str:
    if not parts:
        return base
    index = parts.pop(0)
    base = f"{base}[{index}]"
    s = suggestions[index] if isinstance(index, int) and index < len(suggestions) else None
    if s is None:
        return ".".join([base, *(str(p) for p in parts)])
    if isinstance(s, Reply):
        base += ".reply"
        if not parts:
            return base
        field = str(parts.pop(0))
        return f"{base}.{_SUGGESTION_FIELD.get(field, field)}"
    base += ".action"
    if not parts:
        return base
    field = str(parts.pop(0))
    if field in _SUGGESTION_FIELD:
        return f"{base}.{_SUGGESTION_FIELD[field]}"
    member, fields = _ACTION_FIELD[type(s)]
    if field == "fallback_url":
        inner = member in (
            "dialerAction.dialPhoneNumber",
            "dialerAction.dialEnrichedCall",
            "dialerAction.dialVideoCall",
            "mapAction.showLocation",
            "calendarAction.createCalendarEvent",
        )
        return f"{base}.{member}.fallbackUrl" if inner else f"{base}.fallbackUrl"
    return f"{base}.{member}.{fields.get(field, field)}"
