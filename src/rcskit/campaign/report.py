"""The campaign report: the funnel as a table, a PNG chart and a self-contained HTML page
with the funnel, a timeline, latencies, click-through per suggestion and the reasons of
failures and unknown outcomes.

:func:`funnel` computes the stages from the store's counts (a pure function)::

    recipients         every line of the CSV
    invalid            numbers that do not parse (and duplicates, counted apart)
    not RCS            sent to the fallback without an RCS attempt (or refused as not RCS)
    sent               accepted by the provider
    delivered          on the user's device (delivered or displayed)
    displayed          opened (a read receipt)
    clicked            tapped a suggestion after the message was sent
    failed             by reason
    fallen back        handed to the fallback sender (not RCS, or expired/revoked unread)
    unknown outcome    sent without an idempotency key when the process stopped

Statuses come from the provider's webhooks: run ``rcskit campaign webhook`` (or feed your
bot's status events to :meth:`rcskit.store.MessageRepository.apply_status_event`).

:func:`campaign_details` reads the rest with read-only SQL over the store's tables: when each
message was first sent (accepted), delivered, read and failed (from its status history), the
suggestion taps that followed it, and the reasons of unknown outcomes. Pure functions turn
that into a :class:`Timeline` (events per minute), :class:`Latency` distributions (nearest-rank
p50/p90/p99) and :class:`SuggestionClicks`. The HTML page inlines every chart as an SVG
``data:`` image (drawn with matplotlib) and fits a 390 px wide phone screen.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select

from ..store import Campaign, MessageState, RecipientStatus, Store
from ..store.schema import (
    campaign_recipients,
    inbound_messages,
    message_history,
    outbound_messages,
)
from .errors import CampaignError
from .sends import OPEN_STATUSES, CampaignCounts

__all__ = [
    "CampaignDetails",
    "Funnel",
    "Latency",
    "Milestones",
    "SuggestionClicks",
    "Timeline",
    "campaign_details",
    "details_from",
    "funnel",
    "html_report",
    "latency",
    "percentile",
    "png_chart",
    "svg_charts",
    "text_rows",
    "timeline",
    "write_report",
]


@dataclass(frozen=True, slots=True)
class Funnel:
    """The funnel of one campaign (see the module docstring); ``failures`` are ``(reason,
    count)``, ``unknown_lines`` ``(line, number)`` of the unknown outcomes (the first 1,000),
    ``waiting`` recipients with work still to do."""

    recipients: int
    invalid: int
    duplicates: int
    not_rcs: int
    sent: int
    delivered: int
    displayed: int
    clicked: int
    failed: int
    failures: tuple[tuple[str, int], ...]
    fallen_back: int
    fallen_back_after_send: int
    unknown: int
    unknown_lines: tuple[tuple[int, str], ...]
    waiting: int
    expired: int
    revoked: int

    def stages(self) -> list[tuple[str, int]]:
        """The funnel's bars, in order."""
        return [
            ("recipients", self.recipients),
            ("invalid", self.invalid),
            ("duplicates", self.duplicates),
            ("not RCS", self.not_rcs),
            ("sent", self.sent),
            ("delivered", self.delivered),
            ("displayed", self.displayed),
            ("clicked a suggestion", self.clicked),
            ("failed", self.failed),
            ("fallen back", self.fallen_back),
            ("unknown outcome", self.unknown),
        ]


def funnel(counts: CampaignCounts) -> Funnel:
    """The funnel from :meth:`rcskit.store.Store.campaign_counts`."""
    r = counts.recipients
    s = counts.states
    fallen = r.get(RecipientStatus.FALLBACK, 0)
    not_rcs = fallen - counts.fallback_after_send + r.get(RecipientStatus.NOT_RCS, 0)
    return Funnel(
        recipients=sum(r.values()),
        invalid=r.get(RecipientStatus.INVALID, 0),
        duplicates=r.get(RecipientStatus.DUPLICATE, 0),
        not_rcs=max(0, not_rcs),
        sent=counts.accepted,
        delivered=s.get(MessageState.DELIVERED, 0) + s.get(MessageState.DISPLAYED, 0),
        displayed=s.get(MessageState.DISPLAYED, 0),
        clicked=counts.clicked,
        failed=sum(n for _, n in counts.failures),
        failures=tuple(counts.failures),
        fallen_back=fallen,
        fallen_back_after_send=counts.fallback_after_send,
        unknown=r.get(RecipientStatus.UNKNOWN, 0),
        unknown_lines=tuple(counts.unknown),
        waiting=sum(r.get(st, 0) for st in OPEN_STATUSES),
        expired=s.get(MessageState.EXPIRED, 0),
        revoked=s.get(MessageState.REVOKED, 0),
    )


# ---------------------------------------------------------------- details (timeline, latency)

MILESTONE_STATES = {
    "sent": (MessageState.SENT, MessageState.DELIVERED, MessageState.DISPLAYED),
    "delivered": (MessageState.DELIVERED, MessageState.DISPLAYED),
    "read": (MessageState.DISPLAYED,),
    "failed": (MessageState.FAILED,),
}
"""A message reached a milestone when its state first became one of these (a read message
was delivered, a delivered one sent, whatever order the webhooks came in)."""


@dataclass(frozen=True, slots=True)
class Milestones:
    """When one message was first sent (accepted), delivered, read and failed."""

    sent: datetime | None = None
    delivered: datetime | None = None
    read: datetime | None = None
    failed: datetime | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    """Events per minute: ``minutes`` are the starts of consecutive minutes (UTC), ``counts``
    maps ``sent``, ``delivered``, ``read`` and ``failed`` to one count per minute."""

    minutes: tuple[datetime, ...]
    counts: dict[str, tuple[int, ...]]

    def total(self, kind: str) -> int:
        """All events of ``kind``."""
        return sum(self.counts.get(kind, ()))


@dataclass(frozen=True, slots=True)
class Latency:
    """A latency distribution in seconds: ``samples`` sorted, and their nearest-rank
    percentiles (``None`` without samples)."""

    samples: tuple[float, ...]
    p50: float | None
    p90: float | None
    p99: float | None

    @property
    def count(self) -> int:
        """How many messages it measures."""
        return len(self.samples)


@dataclass(frozen=True, slots=True)
class SuggestionClicks:
    """Taps on one suggestion: ``recipients`` who tapped it (at most once each), ``taps``
    in all, and ``rate`` = recipients / delivered messages."""

    postback_data: str
    text: str
    recipients: int
    taps: int
    rate: float


@dataclass(frozen=True, slots=True)
class CampaignDetails:
    """What the report shows besides the funnel."""

    timeline: Timeline
    sent_to_delivered: Latency
    delivered_to_read: Latency
    clicks: tuple[SuggestionClicks, ...]
    unknown_reasons: tuple[tuple[str, int], ...] = field(default=())


def percentile(ordered: Sequence[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile (0 < p <= 100) of ``ordered`` (sorted ascending):
    the smallest value with at least ``p`` % of the values at or below it."""
    if not 0 < p <= 100:
        raise ValueError(f"p must be in (0, 100], not {p}")
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> Latency:
    """The distribution of ``end - start`` over the pairs that have both (negative gaps, from
    clocks that disagree, count as 0)."""
    samples = sorted(
        max(0.0, (end - start).total_seconds())
        for start, end in pairs
        if start is not None and end is not None
    )
    return Latency(
        tuple(samples), percentile(samples, 50), percentile(samples, 90), percentile(samples, 99)
    )


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def timeline(milestones: Iterable[Milestones], *, max_minutes: int = 24 * 60) -> Timeline:
    """Sent, delivered, read and failed per minute, from the first event's minute to the last's
    (at most ``max_minutes`` minutes: longer campaigns are counted per hour, per day...)."""
    events = [
        (kind, at)
        for m in milestones
        for kind, at in (
            ("sent", m.sent),
            ("delivered", m.delivered),
            ("read", m.read),
            ("failed", m.failed),
        )
        if at is not None
    ]
    kinds = ("sent", "delivered", "read", "failed")
    if not events:
        return Timeline((), {k: () for k in kinds})
    first = _minute(min(at for _, at in events))
    last = _minute(max(at for _, at in events))
    span = int((last - first).total_seconds() // 60) + 1
    step = 1
    while span / step > max_minutes:
        step *= 60 if step == 1 else 24 if step == 60 else 7
    buckets = math.ceil(span / step)
    counts = {k: [0] * buckets for k in kinds}
    for kind, at in events:
        counts[kind][int((at - first).total_seconds() // 60) // step] += 1
    minutes = tuple(first + timedelta(minutes=i * step) for i in range(buckets))
    return Timeline(minutes, {k: tuple(v) for k, v in counts.items()})


def details_from(
    milestones: Sequence[Milestones],
    taps: Iterable[tuple[str, str | None, str | None]],
    unknown_reasons: Sequence[tuple[str, int]] = (),
) -> CampaignDetails:
    """The details from each message's milestones and the taps ``(message id, postback data,
    text)`` that followed campaign messages (a pure function)."""
    delivered = sum(1 for m in milestones if m.delivered is not None)
    by_suggestion: dict[tuple[str, str], tuple[set[str], int]] = {}
    for message_id, postback, text in taps:
        key = (postback or "", text or "")
        who, n = by_suggestion.get(key, (set(), 0))
        who.add(message_id)
        by_suggestion[key] = (who, n + 1)
    clicks = sorted(
        (
            SuggestionClicks(
                postback, text, len(who), n, len(who) / delivered if delivered else 0.0
            )
            for (postback, text), (who, n) in by_suggestion.items()
        ),
        key=lambda c: (-c.recipients, -c.taps, c.text, c.postback_data),
    )
    return CampaignDetails(
        timeline=timeline(milestones),
        sent_to_delivered=latency((m.sent, m.delivered) for m in milestones),
        delivered_to_read=latency((m.delivered, m.read) for m in milestones),
        clicks=tuple(clicks),
        unknown_reasons=tuple(unknown_reasons),
    )


async def campaign_details(store: Store, campaign_id: str) -> CampaignDetails:
    """Read the details of campaign ``campaign_id`` from the store (read-only queries over its
    tables) and compute them with :func:`details_from`."""
    out, hist, inbound, rec = (
        outbound_messages,
        message_history,
        inbound_messages,
        campaign_recipients,
    )
    mine = out.c.campaign_id == campaign_id
    wanted = sorted({s.value for states in MILESTONE_STATES.values() for s in states})
    async with store.engine.connect() as conn:
        reached = (
            await conn.execute(
                select(hist.c.message_id, hist.c.to_state, func.min(hist.c.at))
                .select_from(hist.join(out, out.c.id == hist.c.message_id))
                .where(mine, hist.c.to_state.in_(wanted))
                .group_by(hist.c.message_id, hist.c.to_state)
            )
        ).all()
        taps = (
            await conn.execute(
                select(out.c.id, inbound.c.postback_data, inbound.c.text)
                .select_from(
                    out.join(
                        inbound,
                        and_(
                            inbound.c.sender == out.c.recipient,
                            inbound.c.kind == "suggestion_response",
                            inbound.c.recorded_at >= out.c.created_at,
                        ),
                    )
                )
                .where(
                    mine,
                    out.c.provider_message_id.is_not(None),
                    (inbound.c.in_reply_to.is_(None))
                    | (inbound.c.in_reply_to == out.c.provider_message_id),
                )
            )
        ).all()
        unknown = (
            await conn.execute(
                select(rec.c.error, func.count())
                .where(
                    rec.c.campaign_id == campaign_id,
                    rec.c.status == RecipientStatus.UNKNOWN.value,
                )
                .group_by(rec.c.error)
            )
        ).all()
        await conn.rollback()
    firsts: dict[str, dict[str, datetime]] = {}
    for message_id, state, at in reached:
        if at is not None and at.tzinfo is None:  # SQLite's naive UTC, read without the type
            at = at.replace(tzinfo=UTC)
        firsts.setdefault(message_id, {})[state] = at
    milestones = [_milestones(states) for states in firsts.values()]
    reasons = sorted(
        ((error or "no reason recorded", int(n)) for error, n in unknown),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return details_from(milestones, [(str(i), p, t) for i, p, t in taps], reasons)


def _milestones(states: dict[str, datetime]) -> Milestones:
    def first(kind: str) -> datetime | None:
        times = [states[s.value] for s in MILESTONE_STATES[kind] if s.value in states]
        return min(times) if times else None

    return Milestones(first("sent"), first("delivered"), first("read"), first("failed"))


def _share(n: int, of: int) -> str:
    return f"{100 * n / of:.1f} %" if of else "-"


def text_rows(f: Funnel) -> list[tuple[str, str, str]]:
    """``(stage, count, share of recipients)`` rows for a table."""
    rows = [(name, str(n), _share(n, f.recipients)) for name, n in f.stages()]
    rows.extend(
        (f"  failed: {reason}", str(n), _share(n, f.recipients)) for reason, n in f.failures
    )
    if f.fallen_back_after_send:
        rows.append(("  fallen back after expiry/revocation", str(f.fallen_back_after_send), ""))
    if f.waiting:
        rows.append(("still to do", str(f.waiting), _share(f.waiting, f.recipients)))
    return rows


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display needed)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        raise CampaignError("the report charts need matplotlib: pip install matplotlib") from None
    return plt


PHONE_WIDTH_IN = 4.0
"""The charts' width in inches: at 96 px per inch that is about a phone's width, so the
text keeps its size on a 390 px screen."""


FUNNEL_COLOURS = {
    "recipients": "#4c72b0",
    "sent": "#4c72b0",
    "delivered": "#55a868",
    "displayed": "#55a868",
    "clicked a suggestion": "#55a868",
    "failed": "#c44e52",
    "invalid": "#c44e52",
    "duplicates": "#8c8c8c",
    "unknown outcome": "#dd8452",
    "not RCS": "#8172b2",
    "fallen back": "#8172b2",
}
TIMELINE_COLOURS = {
    "sent": "#4c72b0",
    "delivered": "#55a868",
    "read": "#2a7a3b",
    "failed": "#c44e52",
}


def _save(plt: Any, fig: Any, fmt: str) -> bytes:
    try:
        fig.tight_layout()
        buffer = io.BytesIO()
        # a fixed salt: the same report gives the same SVG ids (reproducible pages)
        with plt.rc_context({"svg.hashsalt": "rcskit-report"}):
            fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _plain_axes(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _funnel_figure(plt: Any, f: Funnel, title: str, size: tuple[float, float]) -> Any:
    stages = f.stages()
    names = [name for name, _ in stages][::-1]
    values = [n for _, n in stages][::-1]
    fig, ax = plt.subplots(figsize=size, dpi=100)
    bars = ax.barh(names, values, color=[FUNNEL_COLOURS.get(n, "#4c72b0") for n in names])
    top = max(values) if values and max(values) > 0 else 1
    for bar, value in zip(bars, values, strict=True):
        ax.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{value:,}",
            va="center",
            fontsize=9,
        )
    ax.set_xlim(0, top * 1.18)
    ax.set_title(title)
    ax.set_xlabel("recipients")
    _plain_axes(ax)
    return fig


def png_chart(f: Funnel, title: str) -> bytes:
    """The funnel as a horizontal bar chart (PNG bytes, 800 x 760 px: sharp at a phone's
    width, where the HTML report shows it). Needs matplotlib."""
    plt = _pyplot()
    fig = _funnel_figure(plt, f, title, (PHONE_WIDTH_IN, 3.8))
    fig.set_dpi(200)
    return _save(plt, fig, "png")


def _timeline_svg(plt: Any, t: Timeline) -> bytes:
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH_IN, 2.8), dpi=100)
    step = (t.minutes[1] - t.minutes[0]) if len(t.minutes) > 1 else timedelta(minutes=1)
    unit = (
        "minute"
        if step <= timedelta(minutes=1)
        else "hour"
        if step <= timedelta(hours=1)
        else "day"
    )
    xs = list(range(len(t.minutes)))
    for kind, colour in TIMELINE_COLOURS.items():
        ax.plot(xs, t.counts[kind], label=kind, color=colour, marker="o", markersize=3)
    ticks = sorted({round(i * (len(xs) - 1) / 4) for i in range(5)}) if len(xs) > 1 else [0]
    pattern = "%H:%M" if unit != "day" else "%m-%d"
    ax.set_xticks(ticks, [t.minutes[i].strftime(pattern) for i in ticks])
    ax.set_ylabel(f"per {unit}")
    ax.set_ylim(bottom=0)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, frameon=False, ncols=4, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    ax.tick_params(labelsize=8)
    ax.set_xlabel("UTC")
    _plain_axes(ax)
    return _save(plt, fig, "svg")


def _latency_svg(plt: Any, d: Latency, title: str, colour: str) -> bytes:
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH_IN, 2.4), dpi=100)
    bins = min(30, max(1, len(set(d.samples))))
    ax.hist(d.samples, bins=bins, color=colour, alpha=0.85)
    marks: dict[float, list[str]] = {}
    for name, value in (("p50", d.p50), ("p90", d.p90), ("p99", d.p99)):
        if value is not None:
            marks.setdefault(value, []).append(name)
    for value, names in marks.items():
        ax.axvline(value, color="#222", linestyle="--", linewidth=1)
        ax.annotate(
            f"{' = '.join(names)}: {_seconds(value)}",
            (value, 1),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=8,
        )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("seconds")
    ax.set_ylabel("messages")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=8)
    _plain_axes(ax)
    return _save(plt, fig, "svg")


def _clicks_svg(plt: Any, clicks: Sequence[SuggestionClicks]) -> bytes:
    shown = list(clicks[:12])[::-1]
    fig, ax = plt.subplots(figsize=(PHONE_WIDTH_IN, 0.8 + 0.3 * max(1, len(shown))), dpi=100)
    rates = [100 * c.rate for c in shown]
    bars = ax.barh([c.text or c.postback_data or "?" for c in shown], rates, color="#55a868")
    top = max(rates) if rates and max(rates) > 0 else 1
    for bar, c in zip(bars, shown, strict=True):
        ax.text(
            bar.get_width() + top * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{100 * c.rate:.1f} % ({c.recipients:,})",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, top * 1.35)
    ax.set_xlabel("recipients who tapped it, % of delivered")
    ax.tick_params(labelsize=8)
    _plain_axes(ax)
    return _save(plt, fig, "svg")


def svg_charts(d: CampaignDetails) -> dict[str, bytes]:
    """The detail charts as SVG, by name: ``timeline``, ``sent_to_delivered``,
    ``delivered_to_read`` and ``clicks`` (each only when it has data). Needs matplotlib."""
    plt = _pyplot()
    charts: dict[str, bytes] = {}
    if d.timeline.minutes:
        charts["timeline"] = _timeline_svg(plt, d.timeline)
    if d.sent_to_delivered.count:
        charts["sent_to_delivered"] = _latency_svg(
            plt, d.sent_to_delivered, "Sent to delivered", "#4c72b0"
        )
    if d.delivered_to_read.count:
        charts["delivered_to_read"] = _latency_svg(
            plt, d.delivered_to_read, "Delivered to read", "#55a868"
        )
    if d.clicks:
        charts["clicks"] = _clicks_svg(plt, d.clicks)
    return charts


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def _img(name: str, image: bytes, alt: str, kind: str = "svg+xml") -> str:
    data = base64.b64encode(image).decode("ascii")
    return (
        f'<figure><img data-chart="{name}" alt="{html.escape(alt)}" '
        f'src="data:image/{kind};base64,{data}"></figure>'
    )


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """A table in a horizontally scrolling box; columns ``numeric`` align right."""
    e = html.escape
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td{' class=n' if i in numeric else ''}>{e(cell)}</td>" for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><tr>{th}</tr>\n{body}\n</table></div>'


def _details_html(d: CampaignDetails, charts: dict[str, bytes]) -> str:
    parts = ["<h2>Timeline</h2>"]
    t = d.timeline
    if "timeline" in charts:
        totals = ", ".join(f"{k} {t.total(k):,}" for k in TIMELINE_COLOURS)
        parts.append(_img("timeline", charts["timeline"], f"Messages per minute: {totals}"))
        parts.append(f"<p>In all: {html.escape(totals)}.</p>")
    else:
        parts.append("<p>No message was sent yet.</p>")
    parts.append("<h2>Latency</h2>")
    rows = [
        (name, f"{lat.count:,}", _seconds(lat.p50), _seconds(lat.p90), _seconds(lat.p99))
        for name, lat in (
            ("sent → delivered", d.sent_to_delivered),
            ("delivered → read", d.delivered_to_read),
        )
    ]
    parts.append(
        '<div class="scroll"><table class="latency"><tr><th></th><th>count</th>'
        "<th>p50</th>"
        "<th>p90</th><th>p99</th></tr>"
        + "".join(
            "<tr>"
            + "".join(
                f"<td{' class=n' if i else ''}>{html.escape(c)}</td>" for i, c in enumerate(r)
            )
            + "</tr>"
            for r in rows
        )
        + "</table></div>"
    )
    for name, alt in (
        ("sent_to_delivered", "Distribution of the time from sent to delivered"),
        ("delivered_to_read", "Distribution of the time from delivered to read"),
    ):
        if name in charts:
            parts.append(_img(name, charts[name], alt))
    parts.append("<h2>Click-through per suggestion</h2>")
    if d.clicks:
        parts.append(_img("clicks", charts["clicks"], "Click-through per suggestion"))
        parts.append(
            _table(
                ("suggestion", "postback", "tapped by", "taps", "rate"),
                (
                    (
                        c.text,
                        c.postback_data,
                        f"{c.recipients:,}",
                        f"{c.taps:,}",
                        f"{100 * c.rate:.1f} %",
                    )
                    for c in d.clicks
                ),
                numeric=(2, 3, 4),
            )
        )
    else:
        parts.append("<p>No suggestion was tapped.</p>")
    return "\n".join(parts)


def html_report(
    campaign: Campaign,
    f: Funnel,
    png: bytes | None = None,
    *,
    generated: datetime,
    rejected: Sequence[tuple[int, str]] = (),
    details: CampaignDetails | None = None,
) -> str:
    """A self-contained HTML page readable on a phone: settings, the funnel, and with
    ``details`` the timeline, the latencies and the click-through per suggestion (charts
    inlined as SVG images), then the failure reasons, the unknown outcomes (and their
    reasons) and the ``rejected`` CSV lines ``(line, reason)``. ``png`` is the funnel chart
    (:func:`png_chart`; drawn here when not given), inlined too."""
    e = html.escape
    charts = svg_charts(details) if details is not None else {}
    funnel_png = png if png is not None else png_chart(f, f"Campaign {campaign.name}")
    rows = _table(("stage", "recipients", "share"), text_rows(f), numeric=(1, 2))
    failures = ""
    if f.failures:
        failures = "<h2>Failure reasons</h2>" + _table(
            ("reason", "recipients", "share"),
            ((reason, f"{n:,}", _share(n, f.recipients)) for reason, n in f.failures),
            numeric=(1, 2),
        )
    unknown = ""
    if f.unknown_lines or (details is not None and details.unknown_reasons):
        reasons = ""
        if details is not None and details.unknown_reasons:
            reasons = _table(
                ("reason", "recipients"),
                ((r, f"{n:,}") for r, n in details.unknown_reasons),
                numeric=(1,),
            )
        items = _table(
            ("line", "number"),
            ((str(line), number) for line, number in f.unknown_lines),
            numeric=(0,),
        )
        more = (
            f"<p>The first {len(f.unknown_lines)} of {f.unknown} are listed.</p>"
            if f.unknown > len(f.unknown_lines)
            else ""
        )
        unknown = (
            "<h2>Unknown outcomes</h2><p>These sends began and their outcome was never "
            "recorded (the process stopped, or the provider answered with a timeout such as "
            "a 504); the provider has no idempotency key, so they were not resent "
            "(<code>rcskit campaign run --resend-unknown</code> resends them, accepting a "
            f"possible duplicate).</p>{reasons}{more}{items}"
        )
    lines = ""
    if rejected:
        lines = (
            "<h2>Lines not sent</h2><p>Invalid numbers and duplicates of the recipients CSV"
            f" (the first {len(rejected)}).</p>"
            + _table(("line", "reason"), ((str(line), why) for line, why in rejected), numeric=(0,))
        )
    what = f"template {campaign.template}" if campaign.template else "message"
    body = _details_html(details, charts) if details is not None else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campaign {e(campaign.name)}: report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1em auto; padding: 0 1em; max-width: 48em;
  color: #222; line-height: 1.45; }}
h1 {{ font-size: 1.5em; overflow-wrap: anywhere; }}
h2 {{ font-size: 1.2em; margin-top: 1.6em; }}
code {{ overflow-wrap: anywhere; }}
figure {{ margin: .5em 0; }}
figure img {{ width: 100%; height: auto; display: block; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; margin: .6em 0; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3em .45em; text-align: left; }}
td {{ overflow-wrap: break-word; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
</style></head><body>
<h1>Campaign {e(campaign.name)}</h1>
<p>Id <code>{e(campaign.id)}</code>, provider {e(campaign.provider)}, {e(what)},
status {e(campaign.status.value)}; report generated {generated:%Y-%m-%d %H:%M} UTC.</p>
<h2>Funnel</h2>
{_img("funnel", funnel_png, "Campaign funnel", "png")}
{rows}
{body}
{failures}
{unknown}
{lines}
</body></html>
"""


def write_report(
    campaign: Campaign,
    f: Funnel,
    out_dir: Path,
    *,
    generated: datetime,
    rejected: Sequence[tuple[int, str]] = (),
    details: CampaignDetails | None = None,
) -> tuple[Path, Path]:
    """Write ``<id>-report.png`` (the funnel) and ``<id>-report.html`` (:func:`html_report`)
    into ``out_dir``; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png = png_chart(f, f"Campaign {campaign.name}")
    png_path = out_dir / f"{campaign.id}-report.png"
    html_path = out_dir / f"{campaign.id}-report.html"
    png_path.write_bytes(png)
    page = html_report(campaign, f, png, generated=generated, rejected=rejected, details=details)
    html_path.write_text(page, encoding="utf-8")
    return png_path, html_path
