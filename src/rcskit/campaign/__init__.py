"""Campaigns: one message (or template) to every recipient of a CSV, at the allowed pace,
with capability checks, fallback, crash safety and a report.

From the shell::

    rcskit campaign create --name spring --provider dotgo --csv recipients.csv \\
        --message msg.json --tps 50 --quiet-hours 21:00-08:00
    rcskit campaign run ID          # kill it at any moment; run it again to resume
    rcskit campaign status ID
    rcskit campaign report ID       # funnel table, PNG chart, self-contained HTML

From Python, :func:`create_campaign` then :class:`Runner`. The parts: :mod:`.recipients`
(CSV streaming), :mod:`.personalize` (placeholders), :mod:`.capcheck` (capability pre-check),
:mod:`.pacing` (quiet hours, limiters), :mod:`.runner` (the stages, crash safety),
:mod:`.outcomes` (what each answer means), :mod:`.fallback` (plain text, senders),
:mod:`.report` and :mod:`.webhook` (statuses into the store).
"""

from __future__ import annotations

from .capcheck import CapabilityChecker, CapabilityMode, CheckResult
from .create import create_campaign, import_csv
from .errors import CampaignError
from .fallback import CsvFallbackSender, FallbackItem, FallbackSender, plain_text
from .outcomes import RunStopped
from .pacing import QuietHours, quiet_until, send_limiter
from .personalize import MessageTemplate, TemplateCampaign
from .providers import (
    NamedProvider,
    ProviderRef,
    ProviderSettings,
    build_client,
)
from .report import Funnel, funnel
from .runner import Progress, Runner, RunOptions, RunSummary
from .settings import CampaignSettings
from .webhook import webhook_app

__all__ = [
    "CampaignError",
    "CampaignSettings",
    "CapabilityChecker",
    "CapabilityMode",
    "CheckResult",
    "CsvFallbackSender",
    "FallbackItem",
    "FallbackSender",
    "Funnel",
    "MessageTemplate",
    "NamedProvider",
    "Progress",
    "ProviderRef",
    "ProviderSettings",
    "QuietHours",
    "RunOptions",
    "RunStopped",
    "RunSummary",
    "Runner",
    "TemplateCampaign",
    "build_client",
    "create_campaign",
    "funnel",
    "import_csv",
    "plain_text",
    "quiet_until",
    "send_limiter",
    "webhook_app",
]
