"""The admin API under /_emulator/."""

from __future__ import annotations

from .conftest import GSMA_BOT, Emu, text_body
from .receiver import Receiver


async def test_overview_and_bots(emu: Emu) -> None:
    overview = (await emu.client.get("/_emulator/")).json()
    assert [b["id"] for b in overview["bots"]] == [
        GSMA_BOT,
        "GgL8dP2wXq4RtY7Zb1",
        "bothub-demo-bot",
        "SMSBOXDEMO0001",
        "maap-demo-bot",
        "rcskit-demo-agent",
    ]
    assert overview["phones"] == 13 + 100_000
    assert overview["clock"] == {"now": "2024-01-01T00:00:00.000000Z", "offset_s": 0.0}
    bots = (await emu.client.get("/_emulator/bots")).json()
    assert bots[0]["client_secret"] == "**********"
    missing = await emu.client.get("/_emulator/bots/nope")
    assert missing.status == 404


async def test_patch_bot(emu: Emu) -> None:
    reply = await emu.client.patch(
        f"/_emulator/bots/{GSMA_BOT}", json={"tps": 7, "faults": {"latency_s": 0.001}}
    )
    assert reply.status == 200
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None and bot.tps == 7 and bot.faults.latency_s == 0.001
    assert bot.client_secret.get_secret_value() == emu.secret(GSMA_BOT)
    bad = await emu.client.patch(f"/_emulator/bots/{GSMA_BOT}", json={"tps": -1})
    assert bad.status == 400 and "tps" in bad.json()["error"]
    fixed = await emu.client.patch(f"/_emulator/bots/{GSMA_BOT}", json={"client_secret": "x"})
    assert fixed.status == 400 and "client_secret" in fixed.json()["error"]


async def test_phone_listing_pages_through_ranges(emu: Emu) -> None:
    first = (await emu.client.get("/_emulator/phones?limit=3")).json()
    assert first["total"] == 100_013
    assert [p["number"] for p in first["phones"]] == [
        "+14251234567",
        "+914253136789",
        "+919686960276",
    ]
    tail = (await emu.client.get("/_emulator/phones?offset=13&limit=2")).json()
    assert [p["number"] for p in tail["phones"]] == ["+15550000000", "+15550000001"]
    assert all(p["generated"] for p in tail["phones"])
    end = (await emu.client.get("/_emulator/phones?offset=100012&limit=5")).json()
    assert [p["number"] for p in end["phones"]] == ["+15550099999"]
    bad = await emu.client.get("/_emulator/phones?offset=x")
    assert bad.status == 400


async def test_create_and_patch_phones(emu: Emu) -> None:
    created = await emu.client.post(
        "/_emulator/phones", json={"number": "+33612345678", "online": False, "carrier_id": "20801"}
    )
    assert created.status == 201 and created.json()["online"] is False
    again = await emu.client.post("/_emulator/phones", json={"number": "+33612345678"})
    assert again.status == 409
    invalid = await emu.client.post("/_emulator/phones", json={"number": "0612"})
    assert invalid.status == 400 and "number" in invalid.json()["error"]
    generated = "+15550000042"
    patched = await emu.client.patch(f"/_emulator/phones/{generated}", json={"rcs": False})
    assert patched.status == 200 and patched.json()["rcs"] is False
    assert (await emu.client.get(f"/_emulator/phones/{generated}")).json()["rcs"] is False
    unknown = await emu.client.patch(f"/_emulator/phones/{generated}", json={"colour": "red"})
    assert unknown.status == 400
    assert (await emu.client.get("/_emulator/phones/+19999999999")).status == 404


async def test_conversation_and_message_views(emu: Emu) -> None:
    msg_id = (await emu.send_gsma(text_body())).json()["RCSMessage"]["msgId"]
    await emu.client.post(
        "/_emulator/phones/+14251234567/actions",
        json={"bot_id": GSMA_BOT, "type": "text", "text": "thanks"},
    )
    await emu.state.run_due()
    view = (
        await emu.client.get(f"/_emulator/phones/+14251234567/conversation?bot_id={GSMA_BOT}")
    ).json()
    [conv] = view["conversations"]
    a2p, p2a = conv["messages"]
    assert (a2p["direction"], a2p["content"], a2p["status"]) == (
        "a2p",
        {"textMessage": "hello world"},
        "displayed",
    )
    assert [h["status"] for h in a2p["history"]] == ["pending", "sent", "delivered", "displayed"]
    assert (p2a["direction"], p2a["content"]) == ("p2a", {"text": "thanks"})
    one = (await emu.client.get(f"/_emulator/bots/{GSMA_BOT}/messages/{msg_id}")).json()
    assert one["charge"] == "Basic Message"


async def test_request_log_filters(emu: Emu, receiver: Receiver) -> None:
    await emu.send_gsma(text_body())
    await emu.send_gsma(text_body(phone="bad"))
    await emu.state.run_due()
    api = (await emu.client.get("/_emulator/log?kind=api&method=post&contains=messages")).json()
    assert [(e["status"], e["phone"]) for e in api["entries"]] == [
        (202, "+14251234567"),
        (400, None),
    ]
    assert api["entries"][0]["bot_id"] == GSMA_BOT
    assert '"textMessage": "hello world"' in api["entries"][0]["request_body"]
    failed = (await emu.client.get("/_emulator/log?status=400")).json()["entries"]
    assert len(failed) == 1 and "400-H" in failed[0]["response_body"]
    hooks = (await emu.client.get("/_emulator/log?kind=webhook&phone=%2B14251234567")).json()
    assert {e["event"] for e in hooks["entries"]} >= {"messageStatus:delivered", "billing"}
    last = hooks["entries"][-1]["seq"]
    assert (await emu.client.get(f"/_emulator/log?since={last}&kind=webhook")).json()[
        "entries"
    ] == []


async def test_reset_and_clock(emu: Emu) -> None:
    headers = await emu.auth()
    await emu.send_gsma(text_body(), headers=headers)
    await emu.client.patch("/_emulator/phones/+14251234567", json={"online": False})
    clock = await emu.client.post("/_emulator/clock", json={"advance_s": 90})
    assert clock.json() == {"now": "2024-01-01T00:01:30.000000Z", "offset_s": 90.0}
    reset = await emu.client.post("/_emulator/reset")
    assert reset.json() == {"ok": True}
    assert emu.state.messages == {bot.id: {} for bot in emu.config.bots}
    assert len(emu.state.messages) == 6
    assert len(emu.state.log) == 0
    phone = (await emu.client.get("/_emulator/phones/+14251234567")).json()
    assert phone["online"] is True
    assert (await emu.send_gsma(text_body(), headers=headers)).status == 202  # token kept
    await emu.client.post("/_emulator/reset", json={"tokens": True})
    assert (await emu.send_gsma(text_body(), headers=headers)).status == 401
    offset = await emu.client.post("/_emulator/clock", json={"offset_s": 0})
    assert offset.json()["offset_s"] == 0.0
    bad = await emu.client.post("/_emulator/clock", json={"advance_s": -1})
    assert bad.status == 400


async def test_run_due_over_http(emu: Emu, receiver: Receiver) -> None:
    msg_id = (await emu.send_gsma(text_body())).json()["RCSMessage"]["msgId"]
    ran = await emu.client.post("/_emulator/run-due")
    assert ran.json()["ran"] >= 3
    assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]


async def test_inject_validates(emu: Emu) -> None:
    bad = await emu.client.post(f"/_emulator/bots/{GSMA_BOT}/messages", json={"phone": "x"})
    assert bad.status == 400
    fmt = await emu.client.post(
        f"/_emulator/bots/{GSMA_BOT}/messages",
        json={"phone": "+14251234567", "content": {"text": "x"}, "format": "xml"},
    )
    assert fmt.status == 400
    ok = await emu.client.post(
        f"/_emulator/bots/{GSMA_BOT}/messages",
        json={
            "phone": "+14251234567",
            "content": {"text": "x"},
            "format": "google",
            "msg_id": "i1",
        },
    )
    assert ok.status == 201 and ok.json()["format"] == "google"
    dup = await emu.client.post(
        f"/_emulator/bots/{GSMA_BOT}/messages",
        json={"phone": "+14251234567", "content": {"text": "x"}, "msg_id": "i1"},
    )
    assert dup.status == 409
