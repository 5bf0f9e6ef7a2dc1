"""The campaign gauges a worker publishes: recipients by status, the oldest pending recipient.

Read from the store (one grouped count, one ``min``) every few seconds by each running worker;
every worker of a campaign reports the same values, so dashboards aggregate them with ``max``.
"""

from __future__ import annotations

from datetime import datetime

from ..observability import instrumentation as obs
from ..store import RecipientStatus, Store
from .sends import CampaignSends


async def publish_campaign_gauges(store: Store, campaign_id: str, now: datetime) -> None:
    """Set ``rcskit_campaign_recipients`` and ``rcskit_campaign_oldest_pending_seconds``."""
    counts = await store.campaigns.count_recipients(campaign_id)
    since = await CampaignSends(store).oldest_pending_since(campaign_id)
    obs.set_campaign_progress(
        campaign_id,
        {status.value: counts.get(status, 0) for status in RecipientStatus},
        (now - since).total_seconds() if since is not None else None,
    )
