"""A campaign's settings beyond the store's columns, kept in the campaign's ``options``.

The store keeps name, provider, message or template code, TPS, start and quiet hours in
columns; :class:`CampaignSettings` is everything else a run needs (the provider account
without its secret, the CSV and how to read it, the capability mode, the fallback), read
back from and written to ``Campaign.options`` as plain JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..store import Campaign, MessageState
from .capcheck import CapabilityMode
from .errors import CampaignError
from .outcomes import DEFAULT_RETRY_MAX_DELAY
from .pacing import DEFAULT_SPIKE
from .providers import ProviderRef, provider_from_json

__all__ = ["DEFAULT_FALLBACK_ON", "CampaignSettings", "ImportState"]

DEFAULT_FALLBACK_ON: tuple[MessageState, ...] = (MessageState.EXPIRED, MessageState.REVOKED)
"""Message endings after acceptance that send the recipient to the fallback."""


@dataclass(frozen=True, slots=True)
class ImportState:
    """How far the CSV import got: ``done`` once every line is stored, and the counts."""

    done: bool = False
    queued: int = 0
    invalid: int = 0
    duplicates: int = 0


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    """Everything a run needs that the store has no column for (see the module docstring).

    ``retry_max_delay``: the longest wait, in seconds, before a send that failed for a
    passing reason (429 without ``Retry-After``, 5xx, no connection) is tried again, or a
    lost answer is looked up (``rcskit campaign create --retry-max-delay``)."""

    provider: ProviderRef
    csv: str
    csv_fingerprint: str
    phone_column: str
    region: str | None = None
    capabilities: CapabilityMode = CapabilityMode.CHECK
    fallback: str = ""
    fallback_text: str | None = None
    fallback_on: tuple[MessageState, ...] = DEFAULT_FALLBACK_ON
    spike: float = DEFAULT_SPIKE
    bulk_per_minute: float = 60.0
    param_columns: tuple[str, ...] | None = None
    message_source: str = "message"
    required_columns: tuple[str, ...] = ()
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY
    imported: ImportState = field(default_factory=ImportState)

    def to_options(self) -> dict[str, Any]:
        """The settings as the campaign's ``options`` JSON."""
        return {
            "provider": self.provider.to_json(),
            "csv": self.csv,
            "csv_fingerprint": self.csv_fingerprint,
            "phone_column": self.phone_column,
            "region": self.region,
            "capabilities": self.capabilities.value,
            "fallback": self.fallback,
            "fallback_text": self.fallback_text,
            "fallback_on": [s.value for s in self.fallback_on],
            "spike": self.spike,
            "bulk_per_minute": self.bulk_per_minute,
            "param_columns": None if self.param_columns is None else list(self.param_columns),
            "message_source": self.message_source,
            "required_columns": list(self.required_columns),
            "retry_max_delay": self.retry_max_delay,
            "imported": self.import_json(),
        }

    def __post_init__(self) -> None:
        if not 0 < self.retry_max_delay <= 86400:
            raise CampaignError(
                f"retry_max_delay: between 0 (excluded) and 86400 seconds, got "
                f"{self.retry_max_delay:g}"
            )

    def import_json(self) -> dict[str, Any]:
        """The ``imported`` entry of the options."""
        i = self.imported
        return {
            "done": i.done,
            "queued": i.queued,
            "invalid": i.invalid,
            "duplicates": i.duplicates,
        }

    def with_import(self, state: ImportState) -> CampaignSettings:
        """A copy with the import state replaced."""
        return replace(self, imported=state)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CampaignSettings:
        """Read the settings back; raise :class:`CampaignError` when the campaign was not made
        by ``rcskit campaign create`` (no provider settings)."""
        try:
            provider = provider_from_json(options["provider"])
            imported = options.get("imported") or {}
            columns = options.get("param_columns")
            return cls(
                provider=provider,
                csv=str(options["csv"]),
                csv_fingerprint=str(options.get("csv_fingerprint", "")),
                phone_column=str(options["phone_column"]),
                region=options.get("region"),
                capabilities=CapabilityMode(options.get("capabilities", "check")),
                fallback=str(options.get("fallback", "")),
                fallback_text=options.get("fallback_text"),
                fallback_on=tuple(
                    MessageState(s) for s in options.get("fallback_on", ["expired", "revoked"])
                ),
                spike=float(options.get("spike", DEFAULT_SPIKE)),
                bulk_per_minute=float(options.get("bulk_per_minute", 60.0)),
                param_columns=None if columns is None else tuple(columns),
                message_source=str(options.get("message_source", "message")),
                required_columns=tuple(options.get("required_columns", ())),
                retry_max_delay=float(options.get("retry_max_delay", DEFAULT_RETRY_MAX_DELAY)),
                imported=ImportState(
                    bool(imported.get("done", False)),
                    int(imported.get("queued", 0)),
                    int(imported.get("invalid", 0)),
                    int(imported.get("duplicates", 0)),
                ),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise CampaignError(
                f"the campaign's settings are incomplete ({err}): was it made with "
                "`rcskit campaign create`?"
            ) from None

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignSettings:
        """The settings of ``campaign``."""
        return cls.from_options(campaign.options)
