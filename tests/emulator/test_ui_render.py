"""HTML fragments of the web UI: escaping, card and carousel layout classes, taps, marks."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from rcskit.emulator.core.records import A2P, FMT_GSMA, FMT_USER, P2A, StoredMessage
from rcskit.emulator.core.records import compact_json as dump
from rcskit.emulator.core.request_log import RequestLog
from rcskit.emulator.ui.render import (
    chips_html,
    format_size,
    log_entry_html,
    message_html,
    phone_href,
    pretty_body,
    short_target,
)
from rcskit.emulator.ui.view import message_view, no_files


def html_of(content: Any, *, status: str = "delivered", direction: int = A2P, **kw: Any) -> str:
    fmt = FMT_USER if direction == P2A else FMT_GSMA
    msg = StoredMessage("m1", "bot", "+1", direction, fmt, dump(content), 0.0, status=status, **kw)
    return message_html(message_view(msg, no_files))


def taps(html: str) -> list[dict[str, Any]]:
    return [json.loads(unescape(t)) for t in re.findall(r'data-tap="([^"]*)"', html)]


def card(layout: dict[str, str], height: str = "MEDIUM_HEIGHT") -> dict[str, Any]:
    return {
        "richcardMessage": {
            "message": {
                "generalPurposeCard": {
                    "layout": layout,
                    "content": {
                        "media": {"mediaUrl": "https://x.example/a.jpg", "height": height},
                        "title": "Title",
                        "description": "Desc",
                        "suggestions": [
                            {"reply": {"displayText": "Yes", "postback": {"data": "y"}}},
                            {
                                "action": {
                                    "displayText": "Call",
                                    "postback": {"data": "c"},
                                    "dialerAction": {"dialPhoneNumber": {"phoneNumber": "+1650"}},
                                }
                            },
                        ],
                    },
                }
            }
        }
    }


def test_text_is_escaped() -> None:
    html = html_of({"textMessage": '<script>alert("x")</script> & more'})
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert 'class="msg bot kind-text status-delivered"' in html and 'id="m-m1"' in html


def test_vertical_card_with_media_height_and_buttons() -> None:
    html = html_of(card({"cardOrientation": "VERTICAL"}, "TALL_HEIGHT"))
    assert 'class="card vertical standalone"' in html
    assert 'class="media h-tall"' in html and 'src="https://x.example/a.jpg"' in html
    assert '<div class="card-title">Title</div>' in html
    assert html.count('class="card-button"') == 2
    assert taps(html) == [
        {"msg_id": "m1", "card_index": 0, "index": 0},
        {"msg_id": "m1", "card_index": 0, "index": 1},
    ]
    assert 'data-action="dial_phone_number"' in html and 'data-detail="Calls +1650"' in html


def test_horizontal_card_puts_the_image_on_the_chosen_side() -> None:
    html = html_of(card({"cardOrientation": "HORIZONTAL", "imageAlignment": "RIGHT"}))
    assert 'class="card horizontal image-right standalone"' in html
    assert '<div class="card-side">' in html
    left = html_of(card({"cardOrientation": "HORIZONTAL"}))
    assert 'class="card horizontal image-left standalone"' in left


def test_carousel_width_and_card_taps() -> None:
    cards = [
        {
            "title": f"C{i}",
            "suggestions": [{"reply": {"displayText": "Pick", "postback": {"data": f"p{i}"}}}],
        }
        for i in range(3)
    ]
    content = {
        "richcardMessage": {
            "message": {
                "generalPurposeCardCarousel": {
                    "layout": {"cardWidth": "SMALL_WIDTH"},
                    "content": cards,
                }
            }
        }
    }
    html = html_of(content)
    assert 'class="carousel width-small"' in html and html.count("carousel-card") == 3
    assert [t["card_index"] for t in taps(html)] == [0, 1, 2]
    assert 'class="msg bot kind-carousel' in html


def test_chips_belong_to_the_message_and_carry_their_address() -> None:
    content = {
        "textMessage": "Pick",
        "suggestedChipList": {
            "suggestions": [
                {"reply": {"displayText": "A", "postback": {"data": "a"}}},
                {
                    "action": {
                        "displayText": "Web",
                        "postback": {"data": "w"},
                        "urlAction": {"openUrl": {"url": "https://w.example"}},
                    }
                },
            ]
        },
    }
    msg = StoredMessage("m9", "bot", "+1", A2P, FMT_GSMA, dump(content), 0.0)
    html = chips_html(message_view(msg, no_files))
    assert 'data-msg="m9"' in html and html.count('class="chip ') == 2
    assert taps(html) == [
        {"msg_id": "m9", "card_index": None, "index": 0},
        {"msg_id": "m9", "card_index": None, "index": 1},
    ]
    assert 'data-url="https://w.example"' in html and 'data-postback="w"' in html
    assert (
        chips_html(None) == ""
        and chips_html(
            message_view(
                StoredMessage("x", "b", "+1", A2P, FMT_GSMA, dump({"textMessage": "t"}), 0.0),
                no_files,
            )
        )
        == ""
    )


def test_marks_for_bot_and_user_messages() -> None:
    assert "Delivered" in html_of({"textMessage": "t"}, status="delivered")
    read = html_of({"textMessage": "t"}, status="displayed")
    assert 'class="mark mark-displayed"' in read and ">Read<" in read
    failed = html_of({"textMessage": "t"}, status="failed", reason="404-A: Rcs disabled")
    assert "Not delivered: 404-A: Rcs disabled" in failed
    assert ">Sent<" in html_of({"text": "hi"}, status="received", direction=P2A)
    user_read = html_of({"text": "hi"}, status="displayed", direction=P2A)
    assert "Read by the bot" in user_read and 'class="msg user' in user_read


def test_user_tap_shows_the_label_and_postback() -> None:
    html = html_of(
        {"response": {"kind": "reply", "text": "Yes", "postback": "y:1"}},
        direction=P2A,
        status="received",
    )
    assert "kind-response" in html and "<span>Yes</span>" in html
    assert '<span class="tag postback" title="postback data">y:1</span>' in html


def test_file_audio_location_and_raw_bubbles() -> None:
    doc = html_of(
        {
            "fileMessage": {
                "fileUrl": "https://x.example/d.pdf",
                "fileName": "d.pdf",
                "fileMIMEType": "application/pdf",
                "fileSize": 1500,
            }
        }
    )
    assert 'class="file-doc"' in doc and "d.pdf" in doc and "1.5 kB" in doc
    image = html_of(
        {"fileMessage": {"fileUrl": "https://x.example/p.png", "fileMIMEType": "image/png"}}
    )
    assert 'class="file-image"' in image and 'src="https://x.example/p.png"' in image
    audio = html_of({"audioMessage": {"fileUrl": "https://x.example/a.wav", "playingLength": 75}})
    assert 'data-audio="https://x.example/a.wav"' in audio and "1:15" in audio
    where = html_of(
        {"geolocationPushMessage": {"pos": "48.8584 2.2945", "label": "Eiffel <Tower>"}}
    )
    assert (
        "Eiffel &lt;Tower&gt;" in where and "48.85840, 2.29450" in where and "mlat=48.8584" in where
    )
    raw = html_of({"mystery": "<b>"})
    assert 'class="bubble raw"' in raw and "&lt;b&gt;" in raw


def test_template_messages_are_tagged() -> None:
    html = html_of({"textMessage": "Hello"}, template="welcome")
    assert "template welcome" in html


def test_log_entries() -> None:
    log = RequestLog(10)
    api = log.add(
        at=0.0,
        kind="api",
        flavour="dotgo",
        method="POST",
        target="/dotgo/rcs/bot/v1/BOT/messages/async",
        status=202,
        duration_ms=1.5,
        request_body='{"RCSMessage":{"textMessage":"<hi>"}}',
        response_body="not json",
        bot_id="BOT",
        phone="+1",
    )
    html = log_entry_html(api)
    assert 'class="entry api ok"' in html and 'data-seq="1"' in html
    assert ">…/messages/async<" in html and ">202<" in html
    assert "&quot;textMessage&quot;: &quot;&lt;hi&gt;&quot;" in html
    hook = log.add(
        at=0.0,
        kind="webhook",
        flavour="webhook",
        method="POST",
        target="http://127.0.0.1:9/hook?token=***",
        status=None,
        duration_ms=3.0,
        event="messageStatus:delivered",
        attempt=2,
        error="ClientConnectorError",
    )
    html = log_entry_html(hook)
    assert 'class="entry webhook err"' in html and ">no answer<" in html
    assert "attempt 2" in html and "ClientConnectorError" in html
    assert short_target(hook) == "/hook?token=***"
    warn = log.add(
        at=0.0, kind="api", flavour="dotgo", method="GET", target="/x", status=404, duration_ms=0.1
    )
    assert 'class="entry api warn"' in log_entry_html(warn)


def test_small_helpers() -> None:
    assert pretty_body('{"a":1}') == '{\n  "a": 1\n}' and pretty_body("{broken") == "{broken"
    assert [format_size(n) for n in (None, 0, 999, 1500, 2_300_000)] == [
        "",
        "",
        "999 B",
        "1.5 kB",
        "2.3 MB",
    ]
    assert phone_href("+14251234567", "bot id") == "/phones/+14251234567?bot=bot%20id"


def test_only_web_and_local_urls_reach_the_page() -> None:
    content = {
        "fileMessage": {"fileUrl": "javascript:alert(1)", "fileName": "x.pdf"},
        "suggestedChipList": {
            "suggestions": [
                {
                    "action": {
                        "displayText": "Go",
                        "postback": {"data": "g"},
                        "urlAction": {"openUrl": {"url": "JavaScript:alert(2)"}},
                    }
                }
            ]
        },
    }
    msg = StoredMessage("m1", "bot", "+1", A2P, FMT_GSMA, dump(content), 0.0)
    view = message_view(msg, no_files)
    html = message_html(view) + chips_html(view)
    assert "alert" not in html.lower() and 'data-detail="Opens a web page"' in html
    assert "href=" not in message_html(view) and "data-url" not in chips_html(view)
    card = html_of(
        {
            "richcardMessage": {
                "message": {
                    "generalPurposeCard": {
                        "content": {"media": {"mediaUrl": "data:text/html,<b>x</b>"}, "title": "t"}
                    }
                }
            }
        }
    )
    assert "data:text" not in card and 'class="media h-medium broken"' in card
    local = html_of({"fileMessage": {"fileUrl": "/_ui/files/F1", "fileMIMEType": "image/png"}})
    assert 'src="/_ui/files/F1"' in local
