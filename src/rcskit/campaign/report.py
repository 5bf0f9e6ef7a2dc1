"""The campaign report: the funnel as a table, a PNG chart and a self-contained HTML page.

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
bot's status events to :meth:`rcskit.store.Store.apply_status_event`).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..store import OPEN_STATUSES, Campaign, CampaignCounts, MessageState, RecipientStatus
from .errors import CampaignError

__all__ = ["Funnel", "funnel", "html_report", "png_chart", "text_rows", "write_report"]


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


def png_chart(f: Funnel, title: str) -> bytes:
    """The funnel as a horizontal bar chart (PNG bytes). Needs matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        raise CampaignError("the report chart needs matplotlib: pip install matplotlib") from None
    stages = f.stages()
    names = [name for name, _ in stages][::-1]
    values = [n for _, n in stages][::-1]
    colours = {
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
    fig, ax = plt.subplots(figsize=(8, 4.8), dpi=100)
    try:
        bars = ax.barh(names, values, color=[colours.get(n, "#4c72b0") for n in names])
        top = max(values) if values and max(values) > 0 else 1
        for bar, value in zip(bars, values, strict=True):
            ax.text(
                bar.get_width() + top * 0.01,
                bar.get_y() + bar.get_height() / 2,
                f"{value:,}",
                va="center",
                fontsize=9,
            )
        ax.set_xlim(0, top * 1.15)
        ax.set_title(title)
        ax.set_xlabel("recipients")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()


def html_report(
    campaign: Campaign,
    f: Funnel,
    png: bytes,
    *,
    generated: datetime,
    rejected: Sequence[tuple[int, str]] = (),
) -> str:
    """A self-contained HTML page: settings, the chart (inlined as base64), the funnel, the
    failures, the unknown outcomes and the ``rejected`` CSV lines ``(line, reason)``."""
    e = html.escape
    rows = "\n".join(
        f"<tr><td>{e(name)}</td><td class=n>{e(n)}</td><td class=n>{e(share)}</td></tr>"
        for name, n, share in text_rows(f)
    )
    unknown = ""
    if f.unknown_lines:
        items = "\n".join(
            f"<tr><td class=n>{line}</td><td>{e(number)}</td></tr>"
            for line, number in f.unknown_lines
        )
        more = (
            f"<p>The first {len(f.unknown_lines)} of {f.unknown} are listed.</p>"
            if f.unknown > len(f.unknown_lines)
            else ""
        )
        unknown = (
            "<h2>Unknown outcomes</h2><p>These sends began and the process stopped before "
            "their outcome was recorded; the provider has no idempotency key, so they were "
            "not resent (<code>rcskit campaign run --resend-unknown</code> resends them, "
            "accepting a possible duplicate).</p>"
            f"{more}<table><tr><th>line</th><th>number</th></tr>{items}</table>"
        )
    lines = ""
    if rejected:
        items = "\n".join(
            f"<tr><td class=n>{line}</td><td>{e(why)}</td></tr>" for line, why in rejected
        )
        lines = (
            "<h2>Lines not sent</h2><p>Invalid numbers and duplicates of the recipients CSV"
            f" (the first {len(rejected)}).</p>"
            f"<table><tr><th>line</th><th>reason</th></tr>{items}</table>"
        )
    chart = base64.b64encode(png).decode("ascii")
    what = f"template {campaign.template}" if campaign.template else "message"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Campaign {e(campaign.name)}: report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3em .8em; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Campaign {e(campaign.name)}</h1>
<p>Id <code>{e(campaign.id)}</code>, provider {e(campaign.provider)}, {e(what)},
status {e(campaign.status.value)}; report generated {generated:%Y-%m-%d %H:%M} UTC.</p>
<img alt="campaign funnel" src="data:image/png;base64,{chart}">
<h2>Funnel</h2>
<table><tr><th>stage</th><th>recipients</th><th>share</th></tr>
{rows}
</table>
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
) -> tuple[Path, Path]:
    """Write ``<id>-report.png`` and ``<id>-report.html`` into ``out_dir``; return both."""
    out_dir.mkdir(parents=True, exist_ok=True)
    png = png_chart(f, f"Campaign {campaign.name}")
    png_path = out_dir / f"{campaign.id}-report.png"
    html_path = out_dir / f"{campaign.id}-report.html"
    png_path.write_bytes(png)
    page = html_report(campaign, f, png, generated=generated, rejected=rejected)
    html_path.write_text(page, encoding="utf-8")
    return png_path, html_path
