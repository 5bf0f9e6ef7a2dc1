"""The clients against the emulator (the other side of the wire), over a loopback socket: the
``rcskit_emulator`` fixture (``rcskit.testing``), as a user's own tests would use it."""

from __future__ import annotations

import pytest

from rcskit.errors import NotFound, UnsupportedFeature
from rcskit.message import Card, Media, Message, Reply, Template
from rcskit.testing import Emulator

RCS_USER = "+914253136789"
NOT_RCS = "+914253136788"


async def test_dotgo_gsma_every_operation(rcskit_emulator: Emulator) -> None:
    b = rcskit_emulator.bot("dotgo")
    async with rcskit_emulator.client("dotgo") as c:
        sent = await c.send(RCS_USER, Message("hello world", suggestions=[Reply("Yes", "yes")]))
        assert sent.message_id and sent.status == "pending"
        card = Card(title="Sale", media=Media.image("https://example.com/a.jpg", size=1000))
        assert (await c.send(RCS_USER, card)).message_id
        template = next(iter(b.templates), None)
        if template is not None:
            assert (await c.send(RCS_USER, Template(template, {"name": "Ada"}))).message_id
        await c.send_typing(RCS_USER)
        await c.send_typing(RCS_USER, active=False)
        from_user = await rcskit_emulator.reply(RCS_USER, "hi bot", kind="dotgo")
        await c.mark_read(from_user)
        status = await c.status(sent.message_id)
        assert status.message_id == sent.message_id and status.status
        revoked = await c.revoke(sent.message_id)
        assert revoked.accepted
        caps = await c.capabilities(RCS_USER)
        assert caps.rcs_enabled and caps.features
        assert not (await c.capabilities(NOT_RCS)).rcs_enabled
        bulk = await c.bulk_capabilities([RCS_USER, NOT_RCS])
        assert bulk.reachable == {RCS_USER} and bulk.unreachable == {NOT_RCS}
        uploaded = await c.upload_file(
            b"\x89PNG\r\n\x1a\n", mime_type="image/png", filename="a.png"
        )
        info = await c.file_info(uploaded.file_id)
        assert info.file_id == uploaded.file_id and info.status
        await c.delete_file(uploaded.file_id)
        with pytest.raises(NotFound):
            await c.file_info(uploaded.file_id)
        with pytest.raises(UnsupportedFeature):
            await c.add_tester(RCS_USER)


async def test_dotgo_google_every_operation(rcskit_emulator: Emulator) -> None:
    async with rcskit_emulator.client("dotgo_google") as c:
        sent = await c.send(RCS_USER, "hello world")
        assert sent.message_id
        await c.send_typing(RCS_USER)
        from_user = await rcskit_emulator.reply(RCS_USER, "hi bot", kind="dotgo_google")
        await c.mark_read(from_user, RCS_USER)
        with pytest.raises(NotFound):
            await c.mark_read("no-such-message", RCS_USER)
        caps = await c.capabilities(RCS_USER)
        assert caps.rcs_enabled and caps.features
        assert not (await c.capabilities(NOT_RCS)).rcs_enabled
        uploaded = await c.upload_file(b"\x89PNG\r\n\x1a\n", mime_type="image/png")
        assert uploaded.file_id
        tester = await c.add_tester("+919686960276")
        assert tester.status
        bulk = await c.bulk_capabilities([RCS_USER, NOT_RCS])
        assert RCS_USER in bulk.reachable
        await c.revoke(sent.message_id, RCS_USER)
