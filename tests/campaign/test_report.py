"""The campaign report: a campaign built step by step in a real store (SQLite and PostgreSQL),
its details read back (timeline, latencies, click-through, unknown reasons) and checked
against the numbers the test made; the pure parts on their own; and the HTML page rendered
in Chromium at 390 px, its charts loaded and its tables showing the same numbers."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rcskit.campaign.report import (
    CampaignDetails,
    Milestones,
    campaign_details,
    funnel,
    html_report,
    latency,
    percentile,
    timeline,
    write_report,
)
from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendOutcome, SendStart
from rcskit.events import SuggestionResponse
from rcskit.message import Contact, Message
from rcskit.store import NewRecipient, Store, deterministic_id
from tests.browser.conftest import ARGS, CHROMIUM, missing
from tests.store.conftest import FakeClock

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CONTENT = Message("Spring sale: tap to shop").model_dump_json()
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def build_campaign(store: Store, clock: FakeClock) -> list[str]:
    """Six recipients: four sent (two at 12:00:10, two at 12:01:10), one failed, one with an
    unknown outcome (a 504). Statuses and taps at known times. Returns the numbers."""
    clock.now = T0
    await store.campaigns.create_campaign(
        "spring", "dotgo", id="c1", message=Message("Spring sale")
    )
    numbers = [f"+3361234567{i}" for i in range(6)]
    await CampaignSends(store).import_recipients(
        "c1", [NewRecipient(i + 2, n, {}) for i, n in enumerate(numbers)]
    )
    claimed = await store.campaigns.claim_batch("c1", "w1", 10, 600)
    starts = {
        r.msisdn: SendStart(r.line_number, deterministic_id("c1", r.msisdn or ""), r.msisdn or "",
                            CONTENT)
        for r in claimed
    }  # fmt: skip
    s = [starts[n] for n in numbers]

    clock.now = at(10)
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [s[0], s[1], s[4], s[5]])
    await CampaignSends(store).finish_sends(
        "c1", "w1", "dotgo",
        [
            SendOutcome(s[0].line_number, s[0].id, OutcomeKind.SENT, provider_message_id="p0"),
            SendOutcome(s[1].line_number, s[1].id, OutcomeKind.SENT, provider_message_id="p1"),
            SendOutcome(s[4].line_number, s[4].id, OutcomeKind.FAILED, code="400-M08",
                        reason="invalid media"),
            SendOutcome(s[5].line_number, s[5].id, OutcomeKind.UNKNOWN,
                        reason="504 Gateway Timeout"),
        ],
    )  # fmt: skip
    clock.now = at(70)
    await CampaignSends(store).begin_sends("c1", "w1", "dotgo", [s[2], s[3]])
    await CampaignSends(store).finish_sends(
        "c1", "w1", "dotgo",
        [SendOutcome(x.line_number, x.id, OutcomeKind.SENT, provider_message_id=f"p{i + 2}")
         for i, x in enumerate([s[2], s[3]])],
    )  # fmt: skip

    clock.now = at(200)
    await store.messages.apply_status("dotgo", "p0", "delivered", at=at(12))
    await store.messages.apply_status("dotgo", "p1", "delivered", at=at(14))
    await store.messages.apply_status("dotgo", "p2", "delivered", at=at(76))
    await store.messages.apply_status("dotgo", "p0", "displayed", at=at(22))
    await store.messages.apply_status("dotgo", "p1", "displayed", at=at(34))
    await store.messages.apply_status("dotgo", "p3", "displayed", at=at(180))  # read, no delivered
    await store.messages.apply_status(
        "dotgo", "p3", "delivered", at=at(181)
    )  # late: changes nothing

    def tap(number: str, n: int, text: str, data: str) -> SuggestionResponse:
        return SuggestionResponse(
            provider="dotgo", contact=Contact(number), message_id=f"u{n}", kind="reply",
            text=text, postback_data=data,
        )  # fmt: skip

    clock.now = at(210)
    for event in (
        tap(numbers[0], 1, "Shop", "shop"),
        tap(numbers[0], 2, "Shop", "shop"),
        tap(numbers[1], 3, "Shop", "shop"),
        tap(numbers[1], 4, "Call us", "call"),
    ):
        await store.inbound.record_inbound(event)
    return numbers


async def test_details_match_the_campaign_the_test_built(store: Store, clock: FakeClock) -> None:
    await build_campaign(store, clock)
    d = await campaign_details(store, "c1")
    t = d.timeline
    assert t.minutes == (at(0), at(60), at(120), at(180))
    assert t.counts == {
        "sent": (2, 2, 0, 0),
        "delivered": (2, 1, 0, 1),
        "read": (2, 0, 0, 1),
        "failed": (1, 0, 0, 0),
    }
    # sent -> delivered: 2, 4, 6 and 110 s (p3 was read without a delivered first)
    assert d.sent_to_delivered.samples == (2.0, 4.0, 6.0, 110.0)
    assert (d.sent_to_delivered.p50, d.sent_to_delivered.p90, d.sent_to_delivered.p99) == (
        4.0,
        110.0,
        110.0,
    )
    # delivered -> read: 10, 20 and 0 s
    assert d.delivered_to_read.samples == (0.0, 10.0, 20.0)
    assert (d.delivered_to_read.p50, d.delivered_to_read.p90) == (10.0, 20.0)
    # click-through, of the 4 delivered messages
    assert [(c.postback_data, c.text, c.recipients, c.taps, c.rate) for c in d.clicks] == [
        ("shop", "Shop", 2, 3, 0.5),
        ("call", "Call us", 1, 1, 0.25),
    ]
    assert d.unknown_reasons == (("504 Gateway Timeout", 1),)
    f = funnel(await CampaignSends(store).campaign_counts("c1"))
    assert (f.sent, f.delivered, f.displayed, f.failed, f.unknown) == (4, 4, 3, 1, 1)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 90, 99, 100)] == [50.0, 90.0, 99.0, 100.0]
    assert percentile([7.0], 99) == 7.0 and percentile([], 50) is None
    with pytest.raises(ValueError, match="p must be in"):
        percentile(values, 0)
    lat = latency([(at(0), at(3)), (at(5), None), (None, at(1)), (at(10), at(9))])
    assert lat.samples == (0.0, 3.0) and lat.count == 2


def test_a_long_campaign_is_counted_per_hour() -> None:
    days = [Milestones(sent=at(3600 * h)) for h in range(48)]
    t = timeline(days)
    assert len(t.minutes) == 48 and t.minutes[1] - t.minutes[0] == timedelta(hours=1)
    assert t.counts["sent"] == (1,) * 48 and t.total("read") == 0
    assert timeline([]).minutes == ()


async def test_the_html_report_on_a_phone_shows_every_chart_and_the_numbers(
    store: Store, clock: FakeClock, tmp_path: Path
) -> None:
    await build_campaign(store, clock)
    campaign = await store.campaigns.get_campaign("c1")
    assert campaign is not None
    f = funnel(await CampaignSends(store).campaign_counts("c1"))
    details = await campaign_details(store, "c1")
    png, page_path = write_report(
        campaign, f, tmp_path, generated=at(300), rejected=[(9, "'12' is not a number")],
        details=details,
    )  # fmt: skip
    page = page_path.read_text(encoding="utf-8")
    assert png.read_bytes().startswith(b"\x89PNG")
    # self-contained: nothing but inline data
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert 'src="data:image/svg+xml;base64,' in page and 'src="data:image/png;base64,' in page
    assert page == html_report(
        campaign, f, png.read_bytes(), generated=at(300), rejected=[(9, "'12' is not a number")],
        details=details,
    )  # fmt: skip
    await render(page_path, details)


async def render(page_path: Path, details: CampaignDetails) -> None:
    reason = missing()
    if reason is not None:
        if os.environ.get("RCSKIT_REQUIRE_BROWSER"):
            pytest.fail(f"RCSKIT_REQUIRE_BROWSER is set but {reason}")
        pytest.skip(reason)
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            await page.goto(page_path.as_uri())
            charts: list[dict[str, Any]] = await page.eval_on_selector_all(
                "img[data-chart]",
                "els => els.map(i => ({name: i.dataset.chart, w: i.naturalWidth,"
                " shown: i.getBoundingClientRect().width, done: i.complete}))",
            )
            assert [c["name"] for c in charts] == [
                "funnel",
                "timeline",
                "sent_to_delivered",
                "delivered_to_read",
                "clicks",
            ]
            for chart in charts:
                assert chart["done"] and chart["w"] > 0, chart
                assert 300 <= chart["shown"] <= 390, chart  # fills a phone's width, no more
            # nothing wider than the phone (tables scroll inside their box)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            latency_rows = await page.eval_on_selector_all(
                "table.latency tr", "rows => rows.map(r => r.innerText.split('\\t'))"
            )
            assert latency_rows[1] == ["sent → delivered", "4", "4.0 s", "110.0 s", "110.0 s"]
            assert latency_rows[2] == ["delivered → read", "3", "10.0 s", "20.0 s", "20.0 s"]
            text = await page.inner_text("body")
            assert "sent 4, delivered 4, read 3, failed 1" in text
            assert "50.0 %" in text and "25.0 %" in text  # click-through of Shop, Call us
            assert "504 Gateway Timeout" in text and "400-M08 invalid media" in text
            assert details.clicks[0].text in text
            await page.screenshot(path=str(ARTIFACTS / "campaign-report-390.png"), full_page=True)
            assert [u for u in requested if not u.startswith(("file:", "data:"))] == []
        finally:
            await browser.close()
