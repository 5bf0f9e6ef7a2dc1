"""The web UI's pages and its actions: the phone list, a phone's conversation (built through
the admin API), files, static assets, and the taps, replies and locations the page sends,
which reach the bot as its provider's webhooks."""

from __future__ import annotations

import json
import re
from html import unescape
from importlib import resources
from typing import Any

from rcskit.emulator.core.records import StoredFile

from .conftest import GOOGLE_BOT, GSMA_BOT, Emu
from .receiver import Receiver

PHONE = "+14251234567"
ACTIONS = f"/_emulator/phones/{PHONE}/actions"

CAROUSEL = {
    "richcardMessage": {
        "message": {
            "generalPurposeCardCarousel": {
                "layout": {"cardWidth": "MEDIUM_WIDTH"},
                "content": [
                    {
                        "media": {
                            "mediaUrl": "https://img.example/dog.jpg",
                            "height": "SHORT_HEIGHT",
                        },
                        "title": "Dog card",
                        "suggestions": [
                            {"reply": {"displayText": "Woof", "postback": {"data": "pick:dog"}}}
                        ],
                    },
                    {
                        "title": "Cat card",
                        "suggestions": [
                            {"reply": {"displayText": "Meow", "postback": {"data": "pick:cat"}}}
                        ],
                    },
                ],
            }
        }
    },
    "suggestedChipList": {
        "suggestions": [
            {"reply": {"displayText": "Neither", "postback": {"data": "pick:none"}}},
            {
                "action": {
                    "displayText": "Call",
                    "postback": {"data": "call"},
                    "dialerAction": {"dialPhoneNumber": {"phoneNumber": "+15556667777"}},
                }
            },
        ]
    },
}


async def inject(emu: Emu, content: dict[str, Any], phone: str = PHONE, bot: str = GSMA_BOT) -> str:
    """A bot message through the admin API (Google content for the Google-flavour bot),
    delivered (and read: the test config reads at once)."""
    body = {"phone": phone, "content": content, "format": "google" if bot == GOOGLE_BOT else "gsma"}
    reply = await emu.client.post(f"/_emulator/bots/{bot}/messages", json=body)
    assert reply.status == 201, reply.body
    await emu.state.run_due()
    msg_id: str = reply.json()["msg_id"]
    return msg_id


async def page(emu: Emu, url: str, status: int = 200) -> str:
    reply = await emu.client.get(url)
    assert reply.status == status, reply.body[:300]
    return reply.body.decode()


def taps(html: str) -> list[dict[str, Any]]:
    """What the page's script posts for each tappable element (``data-tap`` plus the type)."""
    return [
        {**json.loads(unescape(t)), "type": "tap"} for t in re.findall(r'data-tap="([^"]*)"', html)
    ]


def section(html: str, element_id: str) -> str:
    """The markup from the element with ``element_id`` to the end of the page."""
    start = html.index(f'id="{element_id}"')
    return html[start:]


async def test_phone_list_shows_numbers_rcs_presence_and_unread(emu: Emu) -> None:
    await emu.client.patch("/_emulator/phones/+914253136789", json={"displayed_delay_s": None})
    await inject(emu, {"textMessage": "unread one"}, phone="+914253136789")
    await inject(emu, {"textMessage": "unread two"}, phone="+914253136789")
    html = await page(emu, "/")
    assert "<title>Phones · rcskit emulator</title>" in html
    row = html[html.index('data-number="+914253136789"') :]
    row = row[: row.index("</li>")]
    assert "+91 4253 136 789" in row and '<span class="badge rcs">RCS</span>' in row
    assert '<span class="unread" title="2 unread">2</span>' in row and "unread two" in row
    assert 'href="/phones/+914253136789?bot=OsOsQ0GwNvUdLTV9Bd"' in row
    sms = html[html.index('data-number="+914253136788"') :]
    assert "SMS only" in sms[: sms.index("</li>")]
    offline = html[html.index('data-number="+14255550100"') :]
    assert '<span class="presence offline">offline</span>' in offline[: offline.index("</li>")]
    assert "100,000</b> generated numbers <code>+15550000000</code>" in html
    assert html.count('class="phone-row') == len(emu.config.phones)


async def test_generated_phones_with_a_conversation_are_listed(emu: Emu) -> None:
    await inject(emu, {"textMessage": "hello range"}, phone="+15550000001")
    html = await page(emu, "/")
    assert 'data-number="+15550000001"' in html and "hello range" in html


async def test_phone_page_renders_the_conversation_built_through_the_admin_api(
    emu: Emu,
) -> None:
    first = await inject(emu, {"textMessage": "Hello <friend>"})
    said = await emu.client.post(
        ACTIONS, json={"bot_id": GSMA_BOT, "type": "text", "text": "Show me cards"}
    )
    assert said.status == 201
    carousel = await inject(emu, CAROUSEL)
    html = await page(emu, f"/phones/{PHONE}")
    conversation = section(html, "messages")
    ids = re.findall(r'<div class="msg (?:bot|user)[^"]*" id="m-([^"]+)"', conversation)
    assert ids == [first, said.json()["msg_id"], carousel]
    assert "Hello &lt;friend&gt;" in conversation and "Show me cards" in conversation
    assert 'class="msg user kind-text status-received"' in conversation
    assert 'class="carousel width-medium"' in conversation
    assert "Dog card" in conversation and "Cat card" in conversation
    assert 'class="media h-short"' in conversation
    assert conversation.count('class="card-button"') == 2
    assert ">Read<" in conversation  # the test phones read at once
    chips = section(html, "chips")
    assert chips.startswith('id="chips">') and "Neither" in chips and "Call" in chips
    assert "Dotgo demo bot" in html and '<option value="OsOsQ0GwNvUdLTV9Bd" selected>' in html
    assert 'data-admin="/_emulator"' in html and 'data-number="+14251234567"' in html


async def test_chips_show_only_under_the_latest_message(emu: Emu) -> None:
    await inject(emu, CAROUSEL)
    html = await page(emu, f"/phones/{PHONE}")
    assert '<div class="chips" id="chips">' in html
    await emu.client.post(ACTIONS, json={"bot_id": GSMA_BOT, "type": "text", "text": "no"})
    html = await page(emu, f"/phones/{PHONE}")
    assert '<div class="chips" id="chips" hidden></div>' in html


async def test_bot_choice_and_unknown_or_bad_numbers(emu: Emu) -> None:
    await inject(emu, {"text": "from google"}, bot=GOOGLE_BOT)
    html = await page(emu, f"/phones/{PHONE}")  # the most recent conversation's bot
    assert 'class="bubble text">from google<' in html and 'data-bot="GgL8dP2wXq4RtY7Zb1"' in html
    other = await page(emu, f"/phones/{PHONE}?bot={GSMA_BOT}")
    assert "from google" not in other and "No messages yet" in other
    assert "Unknown phone" in await page(emu, "/phones/+19995550000", 404)
    assert "Not a phone number" in await page(emu, "/phones/hello", 400)
    assert 'data-number="+14251234567"' in await page(emu, "/phones/14251234567")


async def test_open_a_number(emu: Emu) -> None:
    reply = await emu.client.get("/open?number=%2B1+425+123+4567")
    assert reply.status == 303 and reply.headers["location"] == "/phones/+14251234567"
    assert (await emu.client.get("/open?number=abc")).status == 400


async def test_static_assets_are_served_and_nothing_is_fetched_from_elsewhere(emu: Emu) -> None:
    html = await page(emu, f"/phones/{PHONE}")
    for asset, kind in (("phone.css", "text/css"), ("phone.js", "javascript"), ("icon.svg", "svg")):
        reply = await emu.client.get(f"/_ui/static/{asset}")
        assert reply.status == 200 and kind in reply.headers["content-type"]
        text = reply.body.decode()
        assert not re.search(r"""(url\(|@import|src=|href=|fetch\()\s*["']?(https?:)?//""", text)
        assert f"/_ui/static/{asset}" in html or asset == "icon.svg"
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    packaged = resources.files("rcskit.emulator.ui").joinpath("static")
    assert {p.name for p in packaged.iterdir()} >= {"phone.css", "phone.js", "icon.svg"}


async def test_uploaded_files_are_served_from_memory_or_redirected(emu: Emu) -> None:
    now = emu.state.ts()
    emu.state.files["F1"] = StoredFile(
        "F1", GSMA_BOT, "a.png", "image/png", 3, now, now + 60, b"PNG"
    )
    emu.state.files["F2"] = StoredFile(
        "F2",
        GSMA_BOT,
        "b.png",
        "image/png",
        0,
        now,
        now + 60,
        source_url="https://cdn.example/b.png",
    )
    kept = await emu.client.get("/_ui/files/F1")
    assert (kept.status, kept.body, kept.headers["content-type"]) == (200, b"PNG", "image/png")
    remote = await emu.client.get("/_ui/files/F2")
    assert remote.status == 307 and remote.headers["location"] == "https://cdn.example/b.png"
    assert (await emu.client.get("/_ui/files/nope")).status == 404
    await inject(emu, {"fileName": "F1"}, bot=GOOGLE_BOT)
    html = await page(emu, f"/phones/{PHONE}?bot={GOOGLE_BOT}")
    assert 'src="/_ui/files/F1"' in html


# ------------------------------------------------------------------ actions


def responses(receiver: Receiver) -> list[dict[str, Any]]:
    return [b["RCSMessage"]["suggestedResponse"]["response"] for b in receiver.events("response")]


async def test_taps_on_chips_and_card_buttons_reach_the_bot(emu: Emu, receiver: Receiver) -> None:
    msg_id = await inject(emu, CAROUSEL)
    html = await page(emu, f"/phones/{PHONE}")
    found = taps(html)
    assert found == [
        {"msg_id": msg_id, "card_index": 0, "index": 0, "type": "tap"},
        {"msg_id": msg_id, "card_index": 1, "index": 0, "type": "tap"},
        {"msg_id": msg_id, "card_index": None, "index": 0, "type": "tap"},
        {"msg_id": msg_id, "card_index": None, "index": 1, "type": "tap"},
    ]
    receiver.received.clear()
    for tap in found:
        reply = await emu.client.post(ACTIONS, json={**tap, "bot_id": GSMA_BOT})
        assert reply.status == 201, reply.body
    await emu.state.run_due()
    assert responses(receiver) == [
        {"reply": {"displayText": "Woof", "postback": {"data": "pick:dog"}}},
        {"reply": {"displayText": "Meow", "postback": {"data": "pick:cat"}}},
        {"reply": {"displayText": "Neither", "postback": {"data": "pick:none"}}},
        {"action": {"displayText": "Call", "postback": {"data": "call"}}},
    ]
    html = await page(emu, f"/phones/{PHONE}")
    assert html.count("kind-response") == 4 and '<span class="tag postback"' in html


async def test_reply_location_file_typing_and_read_reach_the_bot(
    emu: Emu, receiver: Receiver
) -> None:
    await emu.client.patch(f"/_emulator/phones/{PHONE}", json={"displayed_delay_s": None})
    msg_id = await inject(emu, {"textMessage": "Where are you?"})
    receiver.received.clear()
    for body in (
        {"type": "typing", "active": True},
        {"type": "text", "text": "Here"},
        {"type": "location", "latitude": 48.8584, "longitude": 2.2945, "label": "Eiffel Tower"},
        {
            "type": "file",
            "url": "https://example.com/photo.jpg",
            "mime_type": "image/jpeg",
            "size": 120000,
            "name": "photo.jpg",
        },
        {"type": "read", "msg_id": msg_id},
    ):
        reply = await emu.client.post(ACTIONS, json={"bot_id": GSMA_BOT, **body})
        assert reply.status in (200, 201), reply.body
    await emu.state.run_due()
    events = [b for b in receiver.received if "event" in b]
    assert [b["event"] for b in events] == [
        "isTyping",
        "message",
        "message",
        "message",
        "messageStatus",
    ]
    assert events[1]["RCSMessage"]["textMessage"] == "Here"
    assert events[2]["RCSMessage"]["geolocationPushMessage"] == {
        "pos": "48.8584 2.2945",
        "label": "Eiffel Tower",
    }
    assert events[3]["RCSMessage"]["fileMessage"]["fileName"] == "photo.jpg"
    assert events[4]["RCSMessage"] == {
        **events[4]["RCSMessage"],
        "msgId": msg_id,
        "status": "displayed",
    }
    html = await page(emu, f"/phones/{PHONE}")
    assert "Eiffel Tower" in html and "photo.jpg" in html and 'class="mark mark-displayed"' in html


async def test_a_phone_that_is_not_rcs_cannot_message_and_says_so(emu: Emu) -> None:
    html = await page(emu, "/phones/+914253136788")
    assert "This number is not RCS-enabled" in html
    reply = await emu.client.post(
        "/_emulator/phones/+914253136788/actions",
        json={"bot_id": GSMA_BOT, "type": "text", "text": "hi"},
    )
    assert reply.status == 409 and "not RCS-enabled" in reply.json()["error"]


async def test_a_google_bot_page_has_the_subscription_switch(emu: Emu) -> None:
    agent = "rcskit-demo-agent"
    page = (await emu.client.get(f"/phones/{PHONE}?bot={agent}")).body.decode()
    assert 'id="subscribe-toggle" checked' in page
    await emu.client.post(ACTIONS, json={"bot_id": agent, "type": "unsubscribe"})
    page = (await emu.client.get(f"/phones/{PHONE}?bot={agent}")).body.decode()
    assert 'id="subscribe-toggle">' in page
    dotgo = (await emu.client.get(f"/phones/{PHONE}?bot={GSMA_BOT}")).body.decode()
    assert "subscribe-toggle" not in dotgo
