"""``rcskit demo`` as a newcomer uses it, in a real browser at phone width, offline.

The demo (emulator and showcase bot behind one uvicorn server on a free 127.0.0.1 port) is
opened in Debian's Chromium at 390 px wide. Every request the page makes is recorded, and any
to a host other than 127.0.0.1 is aborted and fails the test. The test asks for every keyword,
checks that every image, thumbnail, audio, video and file the showcase sends is served by the
demo itself, that the typing indicator shows well before its reply, and taps each of the
twelve suggested actions, each of which must reach the bot as a ``response`` webhook.
Screenshots go to ``test-artifacts/``.

Skipped without Python Playwright or ``/usr/bin/chromium``, unless ``RCSKIT_REQUIRE_BROWSER``
is set (CI), where it fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rcskit.app import Bot
from rcskit.demo.media import MEDIA_PREFIX, media_files
from rcskit.demo.server import create_demo
from rcskit.demo.showcase import TYPING_PAUSE
from rcskit.events import SuggestionResponse
from tests.demo.running import serving, wait_for

PAGE_ONE = {
    "Open website": "action:open_url",
    "Call us": "action:dial",
    "Enriched call": "action:enriched",
    "Video call": "action:video",
    "Show on map": "action:show_location",
    "Share location": "action:request_location",
}
PAGE_TWO = {
    "Add to calendar": "action:calendar",
    "Draft a text": "action:compose_text",
    "Record a video": "action:compose_recording",
    "Device specifics": "action:device",
    "Share your number": "action:anonymization",
    "Send read receipts": "action:receipts",
}


def bubble(page: Any, text: str) -> Any:
    """The conversation bubble with exactly this text."""
    return page.locator("#messages .bubble").get_by_text(text, exact=True)


async def say(page: Any, text: str) -> None:
    """Type ``text`` in the composer and send it."""
    await page.fill("#composer input[name=text]", text)
    await page.press("#composer input[name=text]", "Enter")


async def tap_action(page: Any, label: str) -> None:
    """Tap the chip ``label``, see what the phone does (a toast, or the location sheet), and
    wait for the bot's answer (which brings the chips back)."""
    await page.locator("#chips .chip", has_text=label).first.click()
    answer = bubble(page, f"You tapped {label!r} (postback {(PAGE_ONE | PAGE_TWO)[label]!r}).")
    await answer.last.wait_for()
    if label == "Share location":
        await page.locator("#sheet").wait_for(state="visible")
        await page.locator("#sheet [data-sheet-close]").click()
        await page.locator("#sheet").wait_for(state="hidden")
    else:
        toast = page.locator("#toast")
        await toast.wait_for(state="visible")
        assert (await toast.inner_text()).strip()
        # the toast covers the chips for 4.5 s at this width: stand in for a user who waits
        await page.evaluate("document.getElementById('toast').hidden = true")


async def media_urls(page: Any) -> list[str]:
    """Every image, link and audio URL in the conversation."""
    urls: list[str] = await page.eval_on_selector_all(
        "#messages img, #messages a[href], #messages [data-audio]",
        "els => els.map(e => e.currentSrc || e.src || e.href || e.dataset.audio)",
    )
    return urls


async def test_every_action_tapped_and_every_medium_local_at_phone_width(
    browser: Any,
    artifacts: Path,
    record_taps: Callable[[Bot], list[SuggestionResponse]],
) -> None:
    async with serving(create_demo) as demo:
        received = record_taps(demo.bot)
        local = urlsplit(demo.base_url).netloc
        requested: list[str] = []
        outside: list[str] = []

        async def only_local(route: Any) -> None:
            url = route.request.url
            requested.append(url)
            if urlsplit(url).netloc != local and not url.startswith("data:"):
                outside.append(url)
                await route.abort()
            else:
                await route.continue_()

        context = await browser.new_context(viewport={"width": 390, "height": 844})
        await context.route("**/*", only_local)
        page = await context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))
        await page.goto(demo.phone_url)

        # the welcome card, its image drawn by the demo and loaded
        welcome = page.locator("#messages .card img").first
        await welcome.wait_for()
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#messages img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        await page.screenshot(path=str(artifacts / "demo-welcome-390.png"))

        for word, shows in [
            ("file", ".file-doc"),
            ("audio", "[data-audio]"),
            ("card", ".card.horizontal"),
            ("carousel", ".carousel-card"),
        ]:
            await say(page, word)
            await page.locator(f"#messages {shows}").last.wait_for()
        await page.locator("#messages .carousel-card", has_text="Forest").wait_for()
        await page.wait_for_function(
            "() => [...document.querySelectorAll('#messages img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        await page.screenshot(path=str(artifacts / "demo-media-390.png"), full_page=True)

        # every medium on the page is the demo's own, and is served
        urls = [u for u in await media_urls(page) if MEDIA_PREFIX in u]
        names = {urlsplit(u).path.rsplit("/", 1)[1] for u in urls}
        assert {"chime.wav", "clip.mp4", "showcase.pdf", "night.png", "forest.png"} <= names
        assert any(n.endswith("-thumb.png") for n in names)  # the video's poster
        files = media_files()
        for url in urls:
            response = await page.request.get(url)
            name = urlsplit(url).path.rsplit("/", 1)[1]
            assert response.status == 200, url
            assert response.headers["content-type"] == files[name].content_type
            assert await response.body() == files[name].body
        # the audio plays in the browser (no "cannot be played" toast)
        await page.locator("#messages [data-audio]").last.click()
        await page.wait_for_timeout(300)
        toast = page.locator("#toast")
        assert not (await toast.is_visible() and "cannot" in (await toast.inner_text()))

        # the typing indicator shows, and the reply comes about TYPING_PAUSE later
        await say(page, "typing")
        await page.locator("#typing").wait_for(state="visible")
        shown = time.monotonic()
        await page.locator("#typing").scroll_into_view_if_needed()
        await page.screenshot(path=str(artifacts / "demo-typing-390.png"))
        await bubble(
            page, f"That was the typing indicator, shown for {TYPING_PAUSE:g} s."
        ).wait_for()
        assert time.monotonic() - shown >= TYPING_PAUSE * 0.6
        await page.locator("#typing").wait_for(state="hidden")

        # all twelve actions, each one tap away
        await say(page, "actions")
        await page.locator("#chips .chip", has_text="Share location").wait_for()
        await page.screenshot(path=str(artifacts / "demo-actions-1-390.png"))
        for label in PAGE_ONE:
            await tap_action(page, label)
        await page.locator("#chips .chip", has_text="More actions").click()
        await page.locator("#chips .chip", has_text="Send read receipts").wait_for()
        await page.screenshot(path=str(artifacts / "demo-actions-2-390.png"))
        for label in PAGE_TWO:
            await tap_action(page, label)

        expected = {**PAGE_ONE, **PAGE_TWO}

        async def all_taps() -> bool:
            got = {e.text: e.postback_data for e in received if e.postback_data}
            return all(got.get(label) == data for label, data in expected.items())

        await wait_for(all_taps)
        tapped = [e for e in received if (e.postback_data or "").startswith("action:")]
        assert [e.postback_data for e in tapped] == list(expected.values())
        await page.screenshot(path=str(artifacts / "demo-after-actions-390.png"))
        await context.close()

        assert outside == [], f"requests left 127.0.0.1: {outside}"
        assert any(MEDIA_PREFIX in u for u in requested)
        assert errors == []
