"""The campaign engine's own error: a campaign that cannot be created or run as asked."""

from __future__ import annotations

from ..errors import RcsError

__all__ = ["CampaignError"]


class CampaignError(RcsError, ValueError):
    """A campaign cannot be created or run as asked; the message says what to change
    (naming the file, line, column or option)."""
