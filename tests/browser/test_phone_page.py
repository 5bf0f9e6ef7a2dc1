"""The phone page in a real browser: Debian's Chromium driven by Python Playwright.

The emulator and a bot (the demo's showcase bot, with a middleware recording what it receives)
run behind one uvicorn server on a free 127.0.0.1 port. A carousel is sent through the Dotgo
API with :class:`~rcskit.client.RcsClient`; the page must show both cards with their buttons
and the chips; clicking a chip and a card button must reach the bot as ``response`` webhooks
with the right postback data, and the bot's answers must appear on the page live.
Screenshots go to ``test-artifacts/``.

Needs ``pip install playwright`` (no ``playwright install``: the browser is Debian's
``chromium`` package at /usr/bin/chromium). Without them the test is skipped, unless
``RCSKIT_REQUIRE_BROWSER`` is set (CI), where it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rcskit.app import Bot
from rcskit.client import DotgoConfig, RcsClient
from rcskit.demo.server import DEMO_BOT_ID, create_demo
from rcskit.emulator.ui.render import phone_href
from rcskit.events import SuggestionResponse
from rcskit.message import Card, CardWidth, Carousel, Height, Media, Message, OpenUrl, Reply
from tests.demo.running import serving, wait_for

PHONE = "+914253136789"


def carousel() -> Message:
    """Two small cards with buttons (images on a host that never resolves), and two chips."""
    cards = [
        Card(
            title="Dog",
            description="A very good dog.",
            media=Media.image("https://images.invalid/dog.jpg", height=Height.SHORT),
            suggestions=(Reply("Pat the dog", "pat:dog"), OpenUrl("Dogs", "https://dogs.invalid")),
        ),
        Card(
            title="Cat",
            description="Ignores you.",
            media=Media.image("https://images.invalid/cat.jpg", height=Height.SHORT),
            suggestions=(Reply("Pat the cat", "pat:cat"),),
        ),
    ]
    return Message(
        Carousel(cards, card_width=CardWidth.MEDIUM),
        suggestions=[Reply("Pick dog", "pick:dog"), Reply("Pick cat", "pick:cat")],
    )


async def test_carousel_renders_and_a_chip_tap_reaches_the_bot(
    browser: Any,
    artifacts: Path,
    record_taps: Callable[[Bot], list[SuggestionResponse]],
) -> None:
    async with serving(create_demo) as demo:
        received = record_taps(demo.bot)
        bot = demo.state.bots[DEMO_BOT_ID]
        config = DotgoConfig(
            DEMO_BOT_ID,
            bot.client_id,
            bot.client_secret.get_secret_value(),
            server_root=f"{demo.base_url}/dotgo/rcs",
            auth_url=f"{demo.base_url}/dotgo/auth/oauth/token",
        )
        async with RcsClient(config) as client:
            sent = await client.send(PHONE, carousel())
        page = await browser.new_page(viewport={"width": 1360, "height": 900})
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        await page.goto(demo.base_url + phone_href(PHONE, DEMO_BOT_ID))

        message = page.locator(f'[id="m-{sent.message_id}"]')
        cards = message.locator(".carousel .carousel-card")
        await cards.nth(1).wait_for()
        assert await cards.count() == 2
        assert await cards.locator(".card-title").all_inner_texts() == ["Dog", "Cat"]
        assert await cards.nth(0).locator(".card-button").all_inner_texts() == [
            "Pat the dog",
            "Dogs",
        ]
        assert await cards.nth(1).locator(".card-button").all_inner_texts() == ["Pat the cat"]
        await page.locator(".media.broken").first.wait_for()  # offline image placeholder
        chips = page.locator("#chips .chip")
        assert await chips.all_inner_texts() == ["Pick dog", "Pick cat"]
        await page.screenshot(path=str(artifacts / "phone-page-carousel.png"))

        await chips.nth(1).click()
        await wait_for(lambda: _found(received, "pick:cat"))
        # the tap shows as the user's message, and the bot's answer arrives live
        await page.locator(".msg.user.kind-response", has_text="Pick cat").wait_for()
        await bubble(page, "You tapped 'Pick cat' (postback 'pick:cat').").wait_for()

        await cards.nth(1).locator(".card-button").click()
        tapped = await wait_for(lambda: _found(received, "pat:cat"))
        assert tapped.kind == "reply" and tapped.text == "Pat the cat"
        assert str(tapped.contact) == PHONE
        await bubble(page, "You tapped 'Pat the cat' (postback 'pat:cat').").wait_for()

        hooks = [
            e
            for e in demo.state.log.query(kind="webhook", phone=PHONE, limit=1000)
            if e.event == "response"
        ]
        assert [e.status for e in hooks] == [200, 200]
        assert '"data":"pick:cat"' in hooks[0].request_body
        await page.locator("#log .entry.webhook", has_text="response").first.wait_for()
        await page.screenshot(path=str(artifacts / "phone-page-after-taps.png"))

        await page.fill("#composer input[name=text]", "carousel")
        await page.press("#composer input[name=text]", "Enter")
        await page.locator(".msg.bot .carousel-card", has_text="Forest").wait_for()
        await page.goto(demo.base_url + "/")
        await page.locator(f'.phone-row[data-number="{PHONE}"]').wait_for()
        await page.screenshot(path=str(artifacts / "phone-list.png"))
        await page.close()
        assert errors == []


def bubble(page: Any, text: str) -> Any:
    """The conversation bubble with exactly this text."""
    return page.locator("#messages .bubble").get_by_text(text, exact=True)


async def _found(received: list[SuggestionResponse], postback: str) -> SuggestionResponse | None:
    return next((e for e in received if e.postback_data == postback), None)


async def test_at_phone_width_the_top_bar_fits_and_traffic_reads_in_causal_order(
    browser: Any,
    artifacts: Path,
) -> None:
    async with serving(create_demo) as demo:
        page = await browser.new_page(viewport={"width": 390, "height": 844})
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        await page.goto(demo.base_url + phone_href(PHONE, DEMO_BOT_ID))
        bar = await page.locator(".topbar").bounding_box()
        assert bar is not None and bar["height"] <= 60  # one line, not four
        for name in ("Phones", "Admin API", "Request log"):
            link = await page.locator(".topbar nav a", has_text=name).bounding_box()
            assert link is not None and link["x"] >= 0 and link["x"] + link["width"] <= 390

        await page.fill("#composer input[name=text]", "hello")
        await page.press("#composer input[name=text]", "Enter")
        webhook = page.locator("#log .entry.webhook", has_text="message").first
        await webhook.wait_for()
        reply = page.locator("#log .entry.api", has_text="messages").last
        await reply.wait_for()
        seqs = [
            int(s)
            for s in await page.locator("#log .entry").evaluate_all(
                "rows => rows.map(r => r.dataset.seq)"
            )
        ]
        assert seqs == sorted(seqs)  # oldest first, each entry where it started
        webhook_seq = int(await webhook.get_attribute("data-seq") or 0)
        reply_seq = int(await reply.get_attribute("data-seq") or 0)
        assert webhook_seq < reply_seq  # the webhook before the reply it caused
        await page.screenshot(path=str(artifacts / "phone-page-390.png"), full_page=True)
        await page.close()
        assert errors == []
