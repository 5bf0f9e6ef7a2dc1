from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from rcskit.emulator import ManualClock, create_app, default_config
from rcskit.emulator.config import EmulatorConfig, PhoneConfig
from rcskit.emulator.core.state import EmulatorState

from .asgi_call import AsgiClient, basic, bearer
from .receiver import Receiver

GSMA_BOT = "OsOsQ0GwNvUdLTV9Bd"
GOOGLE_BOT = "GgL8dP2wXq4RtY7Zb1"
START = datetime(2024, 1, 1, tzinfo=UTC)


def make_config(webhook_url: str | None = None) -> EmulatorConfig:
    """The default config with instant delivery and reading, and fast webhook retries."""
    config = default_config()
    phones = []
    for p in config.phones:
        phones.append(
            PhoneConfig.model_validate(
                {**p.model_dump(), "delivered_delay_s": 0.0, "displayed_delay_s": 0.0}
            )
        )
    config.phones = phones
    for bot in config.bots:
        bot.webhook_url = webhook_url
    config.webhook.base_delay_s = 1.0
    config.webhook.timeout_s = 2.0
    return config


class Emu:
    """An app, its state, a client and helpers to get tokens."""

    def __init__(self, config: EmulatorConfig, clock: ManualClock) -> None:
        self.config = config
        self.clock = clock
        self.app = create_app(config, clock=clock)
        self.state: EmulatorState = self.app.state.emulator
        self.client = AsgiClient(self.app)

    def secret(self, bot_id: str) -> str:
        bot = self.config.bot(bot_id)
        assert bot is not None
        return bot.client_secret.get_secret_value()

    async def token(self, bot_id: str = GSMA_BOT) -> str:
        bot = self.config.bot(bot_id)
        assert bot is not None
        reply = await self.client.post(
            "/dotgo/auth/oauth/token?grant_type=client_credentials",
            headers=basic(bot.client_id, self.secret(bot_id)),
        )
        assert reply.status == 200, reply.body
        token: str = reply.json()["access_token"]
        return token

    async def auth(self, bot_id: str = GSMA_BOT) -> dict[str, str]:
        return bearer(await self.token(bot_id))

    async def send_gsma(
        self, body: dict[str, Any], bot_id: str = GSMA_BOT, headers: dict[str, str] | None = None
    ) -> Any:
        headers = headers or await self.auth(bot_id)
        return await self.client.post(
            f"/dotgo/rcs/bot/v1/{bot_id}/messages/async", json=body, headers=headers
        )


def text_body(
    phone: str = "+14251234567", text: str = "hello world", **extra: Any
) -> dict[str, Any]:
    return {"RCSMessage": {"textMessage": text}, "messageContact": {"userContact": phone}, **extra}


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def emu(receiver: Receiver, clock: ManualClock) -> AsyncIterator[Emu]:
    e = Emu(make_config(receiver.url), clock)
    yield e
    await e.state.aclose()
