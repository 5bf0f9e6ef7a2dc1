"""Creating a campaign: check everything that can be checked before anything is sent, then
import the CSV into the store (streamed, in batches; resumable).

::

    campaign = await create_campaign(
        store, name="spring", provider=settings, csv="recipients.csv",
        message=MessageTemplate.from_json(Path("msg.json").read_text(), source="msg.json"),
        tps=50,
    )

Checked at creation: the CSV has a phone column and a column for every placeholder (an error
names the placeholder and the message file's line), the first row's message is valid for the
provider, quiet hours parse, a template campaign has a fallback text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from .. import limits
from ..errors import InvalidMessage, RcsError
from ..message import Message
from ..providers import registry
from ..store import Campaign, MessageState, NewRecipient, RecipientStatus, Store
from .capcheck import CapabilityMode
from .errors import CampaignError
from .fallback import plain_text
from .outcomes import DEFAULT_RETRY_MAX_DELAY
from .pacing import DEFAULT_SPIKE, QuietHours
from .personalize import MessageTemplate, MissingValue, TemplateCampaign, placeholders
from .providers import ProviderRef
from .recipients import CsvLayout, fingerprint, read_layout, read_recipients
from .sends import CampaignSends
from .settings import DEFAULT_FALLBACK_ON, CampaignSettings, ImportState

__all__ = ["create_campaign", "import_csv", "renderer_of"]

Renderer = MessageTemplate | TemplateCampaign


def _limits_profile(kind: str) -> str:
    """The :mod:`rcskit.limits` profile a provider kind is checked against (the registry's;
    ``gsma`` for a kind it does not know)."""
    spec = registry.find(kind)
    return spec.limits_profile if spec is not None else "gsma"


def renderer_of(campaign: Campaign, settings: CampaignSettings) -> Renderer:
    """What makes each recipient's message: the campaign's message with placeholders, or its
    provider template."""
    if campaign.template is not None:
        return TemplateCampaign(campaign.template, settings.phone_column, settings.param_columns)
    message = campaign.message
    if message is None:
        raise CampaignError(f"campaign {campaign.id} has neither a message nor a template")
    return MessageTemplate.from_message(message, source=settings.message_source)


def _first_row(layout: CsvLayout, region: str | None) -> dict[str, str] | None:
    for r in read_recipients(layout, region=region):
        if r.msisdn is not None:
            return {k: str(v) for k, v in r.params.items()}
    return None


async def create_campaign(
    store: Store,
    *,
    name: str,
    provider: ProviderRef,
    csv: str | os.PathLike[str],
    message: MessageTemplate | None = None,
    template: str | None = None,
    tps: float | None = None,
    starts_at: datetime | None = None,
    quiet_hours: str | None = None,
    phone_column: str | None = None,
    region: str | None = None,
    capabilities: CapabilityMode | str = CapabilityMode.CHECK,
    fallback: str | None = None,
    fallback_text: str | None = None,
    fallback_on: tuple[MessageState, ...] = DEFAULT_FALLBACK_ON,
    param_columns: tuple[str, ...] | None = None,
    spike: float = DEFAULT_SPIKE,
    bulk_per_minute: float = 60.0,
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY,
    id: str | None = None,
    import_now: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> Campaign:
    """Check and create a campaign, then import its CSV (unless ``import_now`` is false: the
    first run imports it). Raises :class:`CampaignError` naming what to fix."""
    if (message is None) == (template is None):
        raise CampaignError("give --message FILE or --template CODE (exactly one)")
    if tps is not None and tps <= 0:
        raise CampaignError(f"--tps {tps:g}: must be > 0")
    if quiet_hours is not None:
        quiet_hours = str(QuietHours.parse(quiet_hours))
    if starts_at is not None and (starts_at.tzinfo is None or starts_at.utcoffset() is None):
        raise CampaignError(f"--start {starts_at.isoformat()}: give a time zone (e.g. +02:00 or Z)")
    path = Path(csv).expanduser().absolute()
    layout = read_layout(path, phone_column)
    renderer: Renderer
    required: tuple[str, ...] = ()
    if message is not None:
        message.check_columns(layout.columns)
        renderer = message
        required = tuple(sorted(message.names))
    else:
        assert template is not None
        renderer = TemplateCampaign(template, layout.phone_column, param_columns)
        renderer.check_columns(layout.columns)
        if fallback_text is None and CapabilityMode(capabilities) is not CapabilityMode.NONE:
            raise CampaignError(
                "a template has no local text for recipients without RCS: give --fallback-text "
                "(placeholders allowed), or --capabilities none"
            )
    if fallback_text is not None:
        missing = placeholders(fallback_text) - set(layout.columns)
        if missing:
            raise CampaignError(
                f"--fallback-text: placeholder {{{sorted(missing)[0]}}} has no column in the CSV"
            )
        required = tuple(sorted(set(required) | placeholders(fallback_text)))
    sample = _first_row(layout, region)
    if sample is not None:
        _check_sample(renderer, sample, provider, fallback_text, layout)
    settings = CampaignSettings(
        provider=provider,
        csv=str(path),
        csv_fingerprint=fingerprint(path),
        phone_column=layout.phone_column,
        region=region,
        capabilities=CapabilityMode(capabilities),
        fallback="",
        fallback_text=fallback_text,
        fallback_on=fallback_on,
        spike=spike,
        bulk_per_minute=bulk_per_minute,
        param_columns=param_columns,
        message_source=message.source if message is not None else "template",
        required_columns=required,
        retry_max_delay=retry_max_delay,
    )
    stored_message = None
    if message is not None:
        stored_message = Message.model_validate(message.base)
    try:
        campaign = await store.campaigns.create_campaign(
            name,
            provider.name,
            id=id,
            message=stored_message,
            template=template,
            tps=tps,
            starts_at=starts_at,
            quiet_hours=quiet_hours,
            options=settings.to_options(),
        )
    except RcsError as err:
        raise CampaignError(str(err)) from None
    spec = fallback or f"csv:{Path.cwd() / f'rcskit-fallback-{campaign.id}.csv'}"
    options = await CampaignSends(store).update_campaign_options(campaign.id, {"fallback": spec})
    campaign = replace(campaign, options=options)
    if import_now:
        campaign = await import_csv(store, campaign, on_progress=on_progress)
    return campaign


def _check_sample(
    renderer: Renderer,
    row: dict[str, str],
    provider: ProviderRef,
    fallback_text: str | None,
    layout: CsvLayout,
) -> None:
    """Render the first valid row and check it against the provider's limits."""
    try:
        sample = renderer.render(row)
        if not isinstance(renderer, TemplateCampaign):
            limits.validate(sample, _limits_profile(provider.kind), "strict")
            if fallback_text is None:
                plain_text(sample)
    except MissingValue:
        return  # that row is reported invalid at import; other rows may be fine
    except InvalidMessage as err:
        raise CampaignError(f"the message for the first row of {layout.path}: {err}") from None


async def import_csv(
    store: Store, campaign: Campaign, *, on_progress: Callable[[int], None] | None = None
) -> Campaign:
    """Stream the campaign's CSV into the store (again after an interrupted import: lines
    already stored are skipped). Records the counts in the campaign's options."""
    settings = CampaignSettings.of(campaign)
    if settings.imported.done:
        return campaign
    path = Path(settings.csv)
    if not path.exists():
        raise CampaignError(f"{path}: the campaign's CSV is gone; its import cannot finish")
    if settings.csv_fingerprint and fingerprint(path) != settings.csv_fingerprint:
        raise CampaignError(f"{path} changed since the campaign was created; import refused")
    layout = read_layout(path, settings.phone_column)
    rows = read_recipients(layout, region=settings.region, required=settings.required_columns)
    if on_progress is not None:
        rows = _counting(rows, on_progress)
    await store.campaigns.import_recipients(campaign.id, rows)
    totals = await store.campaigns.count_recipients(campaign.id)
    never_sent = (RecipientStatus.INVALID, RecipientStatus.DUPLICATE)
    state = ImportState(
        done=True,
        queued=sum(n for s, n in totals.items() if s not in never_sent),
        invalid=totals.get(RecipientStatus.INVALID, 0),
        duplicates=totals.get(RecipientStatus.DUPLICATE, 0),
    )
    options = await CampaignSends(store).update_campaign_options(
        campaign.id, {"imported": settings.with_import(state).import_json()}
    )
    return replace(campaign, options=options)


def _counting(
    rows: Iterator[NewRecipient], on_progress: Callable[[int], None]
) -> Iterator[NewRecipient]:
    for n, row in enumerate(rows, 1):
        yield row
        if n % 1000 == 0:
            on_progress(n)
