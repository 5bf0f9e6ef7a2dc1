"""The emulator inside your own test suite: real requests, real webhooks, no carrier account.

With pytest, the fixture ``rcskit_emulator`` is there as soon as rcskit is installed (a plugin
registered under the ``pytest11`` entry point; it adds no dependency and does nothing unless a
test asks for the fixture)::

    from rcskit.message import Message

    async def test_hello(rcskit_emulator):
        async with rcskit_emulator.client("dotgo") as client:
            await client.send("+14251234567", Message("hi"))
        assert rcskit_emulator.phone("+14251234567").messages[-1].text == "hi"

Outside pytest: ``async with rcskit.testing.Emulator() as emu: ...`` (see :class:`Emulator`).
"""

from __future__ import annotations

from .emulator import Emulator, EmulatorClock, Phone, ReceivedMessage

__all__ = ["Emulator", "EmulatorClock", "Phone", "ReceivedMessage"]
