"""The ``rcskit campaign`` commands: ``create``, ``run``, ``status``, ``report``, ``webhook``
and ``list`` (the campaign engine itself is :mod:`rcskit.campaign`). The CLI's composition
root adds them with :func:`register`; ``python -m rcskit.campaign`` runs them on their own.

The client secret is never stored: ``run`` takes it from ``--client-secret`` or the
``RCSKIT_CLIENT_SECRET`` environment variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from logging import ERROR, WARNING
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from .help import tidy
from .messagefile import BadMessageFile, read_json_file
from .observability import (
    LogFormat,
    LogFormatOption,
    MetricsPortOption,
    announce,
    fail_line,
    json_notes,
    log_event,
    start_observability,
    uvicorn_log_options,
)
from .options import DEFAULT_CONFIG_FILE, DEFAULT_DATABASE, DatabaseOption, JsonOption
from .output import end_progress, json_line, progress_note, run_coroutine, table_console

if TYPE_CHECKING:
    from pydantic import SecretStr
    from rich.console import Console

    from ..campaign import Funnel, ProviderRef, RunSummary
    from ..providers.base import ProviderConfig
    from ..store import Campaign, Store

__all__ = ["commands", "provider_config", "register", "resolve_provider"]

T = TypeVar("T")

DEFAULT_TPS = 10.0
"""Sends per second when neither the campaign nor the provider's configuration says."""

RESERVE_CATCH_UP_S = 0.25
"""The campaign limiter (taken before an attempt is recorded) may catch up this many seconds
of slots after a stall; the runner's second pacing, at the moment of sending, keeps the
requests within the provider's rule (see :class:`~rcskit.campaign.runner.RunOptions`)."""

_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def _config_file(config_file: Path | None) -> Path | None:
    if config_file is not None:
        return config_file.expanduser().absolute()
    default = Path(DEFAULT_CONFIG_FILE)
    return default.absolute() if default.exists() else None


def resolve_provider(
    name: str,
    *,
    environ: Mapping[str, str],
    config_file: Path | None = None,
    bot_id: str | None = None,
    client_id: str | None = None,
    server_root: str | None = None,
    auth_url: str | None = None,
) -> ProviderRef:
    """What ``--provider NAME`` means: with ``--bot-id``/``--client-id``, an account of kind
    ``NAME`` given by options; else the provider ``NAME`` of the configuration (``--config``,
    else ``rcskit.toml`` when it exists, else only the built-in ``emulator``). Checks that the
    configured provider exists and its secrets resolve now, before anything is created."""
    from ..campaign import CampaignError, NamedProvider, ProviderSettings
    from .config import ConfigError, load_config

    if bot_id is not None or client_id is not None:
        if bot_id is None or client_id is None:
            raise CampaignError("give both --bot-id and --client-id (or neither, with --config)")
        return ProviderSettings(name, bot_id, client_id, server_root, auth_url)
    path = _config_file(config_file)
    try:
        config = load_config(path, environ)
        entry = config.providers.get(config.resolve_name(name))
        config.provider_config(name)
    except ConfigError as err:
        raise CampaignError(str(err)) from None
    assert entry is not None
    return NamedProvider(entry.name, None if path is None else str(path), entry.kind)


def provider_config(
    ref: ProviderRef, *, environ: Mapping[str, str], secret: SecretStr | str | None = None
) -> tuple[ProviderConfig, float | None]:
    """The client config of ``ref`` with its secret, and the TPS its configuration gives
    (``None`` when it gives none)."""
    from ..campaign import CampaignError, ProviderSettings
    from .config import ConfigError, load_config

    if isinstance(ref, ProviderSettings):
        return ref.config(secret or ""), None
    try:
        config = load_config(ref.config_file, environ)
        entry = config.providers[config.resolve_name(ref.name)]
        tps = entry.options.get("tps")
        return config.provider_config(ref.name), None if tps is None else float(tps)
    except ConfigError as err:
        raise CampaignError(str(err)) from None


SHOWN_REJECTED = 20
"""Invalid or duplicate lines ``create`` prints (the report lists up to 1,000)."""


async def _rejected(store: Store, campaign_id: str, limit: int) -> list[tuple[int, str]]:
    """``(line, reason)`` of the first invalid or duplicate lines of the CSV."""
    from ..campaign.sends import CampaignSends
    from ..store import RecipientStatus

    rows = await CampaignSends(store).recipients_by_status(
        campaign_id, [RecipientStatus.INVALID, RecipientStatus.DUPLICATE], limit=limit
    )
    return [(line, error or status.value) for line, _, status, error, _ in rows]


def _fail(message: str, code: int = 1) -> typer.Exit:
    fail_line(message)  # a JSON line under --log-format json
    return typer.Exit(code)


def _ttl_seconds(text: str) -> float:
    m = _TTL.match(text)
    if m is None:
        raise typer.BadParameter(
            f"{text!r}: give a duration like 3600s, 90m, 2h or 1d", param_hint="'--ttl'"
        )
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


async def _open(database: str, *, must_exist: bool) -> Store:
    from ..campaign import CampaignError
    from ..store import Store, database_url
    from ..store.engine import sqlite_path

    url = database_url(database)
    path = sqlite_path(url)
    if must_exist and path is not None and not path.exists():
        raise CampaignError(f"no database at {path}")
    return await Store.open(url)


async def _campaign(store: Store, id: str) -> Campaign:
    from ..campaign import CampaignError

    found = await store.campaigns.get_campaign(id)
    if found is None:
        raise CampaignError(f"no campaign with id {id!r}")
    return found


def _summary_line(summary: RunSummary) -> str:
    p = summary.progress
    state = "finished" if summary.finished else "not finished"
    return (
        f"campaign {summary.campaign}: {state} in {summary.elapsed_s:.1f} s: "
        f"{p.sent} sent, {p.failed} failed, {p.fallback} fallen back, {p.unknown} unknown "
        f"outcome, {p.waiting} waiting ({p.rate():.1f} sends/s)"
    )


def _print_summary(summary: RunSummary) -> None:
    """One line (never wrapped: scripts read it) on standard error. ``waiting``: the
    recipients left for later (the notes above it say until when and why)."""
    typer.echo(_summary_line(summary), err=True)


def _log_summary(summary: RunSummary, **fields: Any) -> None:
    """The summary as a JSON line: event ``campaign_finished`` (or ``campaign_stopped``: paused,
    cancelled, or only later work left), the counts as fields, the text line as ``message``."""
    p = summary.progress
    log_event(
        "campaign_finished" if summary.finished else "campaign_stopped",
        _summary_line(summary),
        campaign=summary.campaign,
        finished=summary.finished,
        elapsed_s=round(summary.elapsed_s, 3),
        sent=p.sent,
        failed=p.failed,
        fallen_back=p.fallback,
        unknown=p.unknown,
        waiting=p.waiting,
        sends_per_s=round(p.rate(), 2),
        **fields,
    )


def _printer(console: Console) -> Callable[[str], None]:
    """The runner's notes on ``console`` (standard error), each on one line as it is: no
    wrapping, markup or highlighting (an IPv6 address in brackets is not markup)."""

    def show(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    return show


def _run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed (a faster event loop for many sends in
    flight), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return run_coroutine(main)
    result: T = uvloop.run(main)
    return result


def funnel_record(campaign: Campaign, f: Funnel) -> dict[str, Any]:
    """A campaign's funnel as ``campaign report --json`` prints it."""
    return {
        "campaign_id": campaign.id,
        "name": campaign.name,
        "recipients": f.recipients,
        "invalid": f.invalid,
        "duplicates": f.duplicates,
        "not_rcs": f.not_rcs,
        "sent": f.sent,
        "delivered": f.delivered,
        "displayed": f.displayed,
        "clicked": f.clicked,
        "failed": f.failed,
        "failures": [{"reason": reason, "count": n} for reason, n in f.failures],
        "fallen_back": f.fallen_back,
        "fallen_back_after_send": f.fallen_back_after_send,
        "expired": f.expired,
        "revoked": f.revoked,
        "unknown": f.unknown,
        "unknown_lines": [{"line": line, "number": number} for line, number in f.unknown_lines],
        "waiting": f.waiting,
    }


def campaign_record(c: Campaign) -> dict[str, Any]:
    """One campaign as ``campaign list --json`` prints it."""
    return {
        "id": c.id,
        "name": c.name,
        "provider": c.provider,
        "status": c.status.value,
        "tps": c.tps,
        "created_at": c.created_at,
    }


RedisOption = Annotated[
    str | None,
    typer.Option(
        "--redis",
        envvar="RCSKIT_REDIS_URL",
        help="A redis:// URL: every worker paces under one shared rate limit per provider "
        "account (or RCSKIT_REDIS_URL). Needed to run several workers of a paced campaign.",
        show_default=False,
    ),
]


def _account(campaign: Campaign) -> str:
    """The provider account a campaign sends from (the shared limiter's key)."""
    from ..campaign import CampaignSettings

    ref = CampaignSettings.of(campaign).provider
    return str(getattr(ref, "bot_id", None) or getattr(ref, "name", None) or ref.kind)


async def _run_campaign(
    store: Store,
    campaign: Campaign,
    *,
    secret: str | None,
    concurrency: int | None,
    resend_unknown: bool,
    wait: bool,
    lease: float,
    redis: Any | None,
    worker_id: str | None = None,
    register: bool = True,
    **runner_kw: Any,
) -> RunSummary:
    """Build the clients and limiters of ``campaign`` and run it to its end (or pause).
    ``redis``: a Redis client for the shared limiters (``None``: this process paces alone)."""
    from ..campaign import CampaignSettings, Runner, RunOptions, build_client
    from ..campaign.fallback import load_sender
    from ..campaign.pacing import bulk_limiter, default_concurrency, send_limiter
    from ..ratelimit import RateLimiter
    from ..retry import NO_RETRY

    settings = CampaignSettings.of(campaign)
    config, configured_tps = provider_config(settings.provider, environ=os.environ, secret=secret)
    tps = campaign.tps or configured_tps or DEFAULT_TPS
    kind = settings.provider.kind
    pace: RateLimiter
    bulk: RateLimiter
    if redis is not None:
        from ..campaign import redis_limiter

        account = _account(campaign)
        pace = redis_limiter.send_limiter(redis, kind, account, tps)
        bulk = redis_limiter.bulk_capability_limiter(redis, kind, account, settings.bulk_per_minute)
    else:
        pace = send_limiter(kind, tps, spike=settings.spike, catch_up=RESERVE_CATCH_UP_S)
        bulk = bulk_limiter(settings.bulk_per_minute)
    in_flight = concurrency or default_concurrency(tps)
    transport = campaign_transport(os.environ, in_flight)
    try:
        sender_client = build_client(config, transport=transport, retry=NO_RETRY)
        check_client = build_client(
            config,
            transport=transport,
            auth=sender_client.auth,
            limiter={"send": pace, "bulk": bulk},
        )
        sender = load_sender(settings.fallback, campaign.id)
        options = RunOptions(
            concurrency=in_flight,
            resend_unknown=resend_unknown,
            wait=wait,
            lease_s=lease,
            # the shared limiter spaces the sends itself, on Redis's clock
            smoothing=redis is None,
            shared_limiter=redis is not None,
            worker_id=worker_id,
            register=register,
        )
        runner = Runner(
            store,
            campaign,
            sender_client,
            sender,
            limiter=pace,
            check_client=check_client,
            options=options,
            **runner_kw,
        )
        try:
            return await runner.run()
        finally:
            await sender.close()
    finally:
        await transport.close()


HTTP_CLIENT_ENV = "RCSKIT_CAMPAIGN_HTTP"
"""Environment variable choosing the HTTP client of campaign workers: ``lean`` (default,
:class:`~rcskit.transport.Http1Transport`) or ``aiohttp``."""


def http_client_choice(environ: Mapping[str, str]) -> str:
    """``lean`` or ``aiohttp`` from ``RCSKIT_CAMPAIGN_HTTP`` (default ``lean``); any other
    value is refused naming the variable, before anything is claimed or sent."""
    from ..campaign import CampaignError

    choice = environ.get(HTTP_CLIENT_ENV, "").strip().lower() or "lean"
    if choice not in ("lean", "aiohttp"):
        raise CampaignError(
            f"{HTTP_CLIENT_ENV}={choice!r}: expected 'lean' (the default) or 'aiohttp'"
        )
    return choice


def campaign_transport(environ: Mapping[str, str], concurrency: int) -> Any:
    """The transport a campaign worker sends with: the lean HTTP/1.1 client by default
    (:class:`~rcskit.transport.Http1Transport`, about a third of aiohttp's CPU per request,
    measured in ``bench/client.py``), aiohttp when ``RCSKIT_CAMPAIGN_HTTP=aiohttp``. Its
    connections: the sends in flight, plus a few for capability checks and token refreshes
    (a fixed cap of 100 held a run at ``--concurrency 500`` to 100 requests in flight)."""
    from ..transport import AiohttpTransport, Http1Transport

    limit = max(100, concurrency + 8)
    if http_client_choice(environ) == "aiohttp":
        return AiohttpTransport(limit=limit)
    return Http1Transport(limit=limit)


def _redis_client(url: str | None) -> Any | None:
    """A Redis client for ``url`` (``None`` for none); a bad URL is refused naming it."""
    if url is None:
        return None
    from ..campaign import CampaignError
    from ..campaign.redis_limiter import connect, redacted_url

    try:
        return connect(url)
    except ValueError as err:
        raise CampaignError(f"--redis {redacted_url(url)}: {err}") from None


_POOL_NOTES = (
    re.compile(r"serving campaign \S"),
    re.compile(r"campaign .+ (finished|stopped): \d+ sent$"),
    re.compile(r"campaign .+ \(trying again in [\d.]+ s\)$"),
)
"""The worker pool's notes that :func:`_logged_run` reports itself, with their fields, under
``--log-format json`` (any other note of the pool is logged as ``worker_note``)."""


async def _logged_run(
    campaign: Campaign,
    worker_id: str,
    start: Callable[[Callable[[str], None]], Coroutine[Any, Any, RunSummary]],
) -> RunSummary:
    """Run one campaign of ``rcskit worker --log-format json``: ``start(notify)`` runs it; its
    beginning, notes, end (with the counts) or failure are JSON lines with the campaign, its
    provider and the worker, and every log record written inside carries the campaign and
    provider too."""
    from ..campaign.worker import RETRY_FAILED_S
    from ..observability.logs import log_context
    from .output import one_line

    ids: dict[str, Any] = {"provider": campaign.provider, "worker": worker_id}
    with log_context(campaign=campaign.id, provider=campaign.provider):
        log_event("campaign_served", f"serving campaign {campaign.id}", campaign=campaign.id, **ids)
        try:
            summary = await start(
                lambda text: log_event("campaign_note", text, campaign=campaign.id, **ids)
            )
        except Exception as err:
            why = one_line(err)
            log_event(
                "campaign_failed",
                f"campaign {campaign.id}: {why} (trying again in {RETRY_FAILED_S:g} s)",
                level=ERROR,
                campaign=campaign.id,
                error=why,
                retry_in_s=RETRY_FAILED_S,
                **ids,
            )
            raise
        _log_summary(summary, **ids)
        return summary


PROGRESS_LOG_S = 10.0
"""Seconds between two ``campaign_progress`` lines of ``campaign run --log-format json`` (the
progress bar, redrawn in place, is off with JSON lines)."""


async def _run_logged(
    campaign: Campaign,
    run_it: Callable[..., Coroutine[Any, Any, RunSummary]],
    *,
    progress: bool,
    clock: Callable[[], float] | None = None,
) -> RunSummary:
    """``rcskit campaign run --log-format json``: ``run_it(on_progress=, notify=)`` runs the
    campaign; its start, notes, progress (with ``progress``: a line every
    :data:`PROGRESS_LOG_S` seconds at most) and summary are JSON lines with the campaign and
    its provider, and every log record written inside carries them too. ``clock``: the
    monotonic clock that spaces the progress lines."""
    import time

    from ..campaign import Progress as RunProgress
    from ..observability.logs import log_context

    now_s = clock or time.monotonic
    ids: dict[str, Any] = {"campaign": campaign.id, "provider": campaign.provider}
    last = [now_s()]

    def show(p: RunProgress) -> None:
        now = now_s()
        if now - last[0] < PROGRESS_LOG_S:
            return
        last[0] = now
        log_event(
            "campaign_progress",
            f"campaign {campaign.id}: {p.done} of {p.total} done, {p.sent} sent "
            f"({p.rate():.1f} sends/s)",
            done=p.done,
            total=p.total,
            sent=p.sent,
            failed=p.failed,
            sends_per_s=round(p.rate(), 2),
            **ids,
        )

    with log_context(**ids):
        log_event("campaign_started", f"running campaign {campaign.id}", **ids)
        summary = await run_it(
            on_progress=show if progress else None,
            notify=lambda text: log_event("campaign_note", text, **ids),
        )
        _log_summary(summary, provider=campaign.provider)
        return summary


def register(app: typer.Typer) -> None:
    """Add the ``campaign`` command group and ``worker`` to the ``rcskit`` command line."""
    app.add_typer(commands(), name="campaign")
    app.command("worker")(worker)


def worker(
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            envvar="RCSKIT_CLIENT_SECRET",
            help="The provider client secret (or RCSKIT_CLIENT_SECRET).",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, help="Sends in flight per campaign."),
    ] = None,
    lease: Annotated[float, typer.Option("--lease", help="Lease length in seconds.")] = 30.0,
    redis_url: RedisOption = None,
    database: DatabaseOption = DEFAULT_DATABASE,
    metrics_port: MetricsPortOption = None,
    log_format: LogFormatOption = LogFormat.text,
) -> None:
    """Serve every running campaign of the store until stopped (Ctrl-C, SIGTERM).

    Start as many as needed, on one host or several, on one PostgreSQL database (with --redis
    when a campaign has a TPS). `rcskit campaign resume ID` starts a campaign for them;
    `campaign pause|cancel ID` reach every worker within a second."""
    import asyncio
    import contextlib
    import signal

    from rich.console import Console

    from ..campaign.worker import WorkerPool
    from ..errors import RcsError

    console = Console(stderr=True)
    show = _printer(console)
    _metrics = start_observability(log_format, metrics_port)  # serves until the process ends
    json_lines = json_notes()

    async def go() -> None:
        http_client_choice(os.environ)  # a typo is refused before any claim
        redis = _redis_client(redis_url)
        try:
            async with await _open(database, must_exist=True) as store:

                def run_one(campaign: Campaign, worker_id: str) -> Any:
                    def start(notify: Callable[[str], None]) -> Coroutine[Any, Any, RunSummary]:
                        return _run_campaign(
                            store,
                            campaign,
                            secret=client_secret,
                            concurrency=concurrency,
                            resend_unknown=False,
                            wait=True,
                            lease=lease,
                            redis=redis,
                            worker_id=worker_id,
                            register=False,
                            notify=notify,
                        )

                    if json_lines:
                        return _logged_run(campaign, worker_id, start)
                    return start(lambda text: show(f"{campaign.id}: {text}"))

                def pool_note(text: str) -> None:
                    if not json_lines:
                        show(text)
                    elif not any(known.match(text) for known in _POOL_NOTES):
                        log_event("worker_note", text, worker=pool.worker)

                pool = WorkerPool(
                    store, run_one, shared_limiter=redis is not None, notify=pool_note
                )
                serving = asyncio.ensure_future(pool.serve())
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, serving.cancel)
                started = f"worker {pool.worker} serving the running campaigns (Ctrl-C stops it)"
                if json_lines:
                    log_event("worker_started", started, worker=pool.worker)
                else:
                    show(started)
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
                if json_lines:
                    log_event("worker_stopped", f"worker {pool.worker} stopped", worker=pool.worker)
                else:
                    show(f"worker {pool.worker} stopped")
        finally:
            if redis is not None:
                await redis.aclose()

    try:
        _run_loop(go())
    except RcsError as err:
        raise _fail(str(err)) from None


def commands() -> typer.Typer:
    """The ``campaign`` command group (``python -m rcskit.campaign`` runs it on its own)."""
    group = typer.Typer(
        help="Campaigns: send one message to a CSV of recipients, survive crashes, report.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )

    @group.command("create")
    def create(
        name: Annotated[str, typer.Option("--name", help="A name for the campaign.")],
        provider: Annotated[
            str,
            typer.Option(
                "--provider",
                help="A provider of rcskit.toml (or 'emulator'), or a provider kind with "
                "--bot-id and --client-id (an unknown kind is refused with the list).",
            ),
        ],
        csv: Annotated[Path, typer.Option("--csv", help="Recipients: a phone column + params.")],
        message: Annotated[
            Path | None,
            typer.Option("--message", help="The message: rcskit JSON, a GSMA or Google body."),
        ] = None,
        template: Annotated[
            str | None, typer.Option("--template", help="A provider template code instead.")
        ] = None,
        tps: Annotated[
            float | None, typer.Option("--tps", help="Sends per second (the account's TPS).")
        ] = None,
        start: Annotated[
            str | None, typer.Option("--start", help="Not before this ISO time (with zone).")
        ] = None,
        quiet_hours: Annotated[
            str | None,
            typer.Option(
                "--quiet-hours", help="No sends then, recipient's local time: 21:00-08:00."
            ),
        ] = None,
        phone_column: Annotated[
            str | None, typer.Option("--phone-column", help="Default: phone, msisdn or number.")
        ] = None,
        region: Annotated[
            str | None, typer.Option("--region", help="Region of national numbers (FR, IN...).")
        ] = None,
        capabilities: Annotated[
            str,
            typer.Option("--capabilities", help="check (cache, then provider), cache-only, none."),
        ] = "check",
        fallback: Annotated[
            str | None,
            typer.Option(
                "--fallback",
                help="csv:PATH (default: rcskit-fallback-ID.csv here) or module:callable.",
            ),
        ] = None,
        fallback_text: Annotated[
            str | None,
            typer.Option("--fallback-text", help="SMS text instead of the plain rendering."),
        ] = None,
        fallback_on: Annotated[
            str,
            typer.Option(
                "--fallback-on",
                help="Endings after acceptance that fall back (comma list; '' for none).",
            ),
        ] = "expired,revoked",
        param_columns: Annotated[
            str | None,
            typer.Option("--param-columns", help="Template params: these columns (comma list)."),
        ] = None,
        ttl: Annotated[
            str | None, typer.Option("--ttl", help="Message lifetime: 3600s, 90m, 2h, 1d.")
        ] = None,
        campaign_id: Annotated[
            str | None, typer.Option("--id", help="The campaign id (default: random).")
        ] = None,
        bot_id: Annotated[
            str | None,
            typer.Option("--bot-id", help="The bot id, with --provider KIND (no rcskit.toml)."),
        ] = None,
        client_id: Annotated[
            str | None,
            typer.Option("--client-id", help="The OAuth client id, with --provider KIND."),
        ] = None,
        server_root: Annotated[
            str | None, typer.Option("--server-root", help="e.g. http://127.0.0.1:8000/dotgo/rcs")
        ] = None,
        auth_url: Annotated[
            str | None,
            typer.Option(
                "--auth-url", help="The token URL, with --provider KIND (default: the kind's)."
            ),
        ] = None,
        bulk_per_minute: Annotated[
            float, typer.Option("--bulk-per-minute", help="Bulk capability checks per minute.")
        ] = 60.0,
        retry_max_delay: Annotated[
            float,
            typer.Option(
                "--retry-max-delay",
                help="Longest wait (seconds) before a failed send (429, 5xx, no connection) "
                "is retried or a lost answer is looked up.",
            ),
        ] = 60.0,
        config: Annotated[
            Path | None,
            typer.Option("--config", help="rcskit configuration (default: ./rcskit.toml)."),
        ] = None,
        database: DatabaseOption = DEFAULT_DATABASE,
    ) -> None:
        """Create a campaign and import its recipients (checked before anything is sent)."""
        from ..campaign import (
            CampaignError,
            CampaignSettings,
            CapabilityMode,
            MessageTemplate,
            create_campaign,
        )
        from ..errors import RcsError
        from ..message import Message, parse_rfc3339
        from ..store import MessageState

        try:
            settings = resolve_provider(
                provider,
                environ=os.environ,
                config_file=config,
                bot_id=bot_id,
                client_id=client_id,
                server_root=server_root,
                auth_url=auth_url,
            )
            body: MessageTemplate | None = None
            if message is not None:
                try:
                    read_json_file(str(message))  # bounded: one line for a bad file
                except BadMessageFile as err:
                    raise CampaignError(str(err)) from None
                text = message.read_text(encoding="utf-8")
                body = MessageTemplate.from_json(text, source=str(message))
            if ttl is not None:
                if body is None:
                    raise typer.BadParameter("applies to --message campaigns", param_hint="'--ttl'")
                seconds = _ttl_seconds(ttl)
                timed = Message.model_validate({**body.base, "ttl": f"{seconds:g}s"})
                body = MessageTemplate(
                    timed.model_dump(mode="json", exclude_none=True),
                    body.names,
                    body.source,
                    body.text,
                )
            starts_at = None
            if start is not None:
                starts_at = parse_rfc3339(start)
                if starts_at is None:
                    raise typer.BadParameter(
                        f"{start!r}: give an ISO time like 2025-05-01T09:00:00+02:00",
                        param_hint="'--start'",
                    )
            try:
                mode = CapabilityMode(capabilities)
            except ValueError:
                raise typer.BadParameter(
                    f"{capabilities!r}: check, cache-only or none", param_hint="'--capabilities'"
                ) from None
            try:
                endings = tuple(
                    MessageState(w.strip()) for w in fallback_on.split(",") if w.strip()
                )
            except ValueError:
                raise typer.BadParameter(
                    f"{fallback_on!r}: states like expired,revoked", param_hint="'--fallback-on'"
                ) from None

            async def go() -> tuple[Campaign, list[tuple[int, str]]]:
                async with await _open(database, must_exist=False) as store:
                    made = await create_campaign(
                        store,
                        name=name,
                        provider=settings,
                        csv=csv,
                        message=body,
                        template=template,
                        tps=tps,
                        starts_at=starts_at,
                        quiet_hours=quiet_hours,
                        phone_column=phone_column,
                        region=region,
                        capabilities=mode,
                        fallback=fallback,
                        fallback_text=fallback_text,
                        fallback_on=endings,
                        param_columns=None
                        if param_columns is None
                        else tuple(c.strip() for c in param_columns.split(",") if c.strip()),
                        bulk_per_minute=bulk_per_minute,
                        retry_max_delay=retry_max_delay,
                        id=campaign_id,
                        on_progress=lambda n: progress_note(f"imported {n:,} lines"),
                    )
                    return made, await _rejected(store, made.id, SHOWN_REJECTED)

            try:
                made, rejected = run_coroutine(go())
            finally:
                end_progress()
        except RcsError as err:
            raise _fail(str(err)) from None
        imported = CampaignSettings.of(made).imported
        typer.echo(
            f"campaign {made.id} created: {imported.queued} recipient(s), "
            f"{imported.invalid} invalid, {imported.duplicates} duplicate(s)"
        )
        for line, why in rejected:
            typer.echo(f"  {csv} line {line}: {why}")
        hidden = imported.invalid + imported.duplicates - len(rejected)
        if hidden > 0:
            typer.echo(f"  ... and {hidden} more (rcskit campaign report {made.id} lists them)")
        typer.echo(f"run it with: rcskit campaign run {made.id}")

    @group.command("run")
    def run(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        client_secret: Annotated[
            str | None,
            typer.Option(
                "--client-secret",
                envvar="RCSKIT_CLIENT_SECRET",
                help="The provider client secret (or RCSKIT_CLIENT_SECRET).",
                show_default=False,
            ),
        ] = None,
        concurrency: Annotated[
            int | None,
            typer.Option(
                "--concurrency",
                min=1,
                help="Sends in flight at once (default: about one second of sends at the "
                "campaign's TPS, at least 32, at most 512). A crash can leave this many "
                "outcomes unknown where the provider has no idempotency key.",
                show_default=False,
            ),
        ] = None,
        resend_unknown: Annotated[
            bool,
            typer.Option(
                "--resend-unknown",
                help="Resend messages whose outcome is unknown (may duplicate them).",
            ),
        ] = False,
        no_wait: Annotated[
            bool, typer.Option("--no-wait", help="Return when only future work remains.")
        ] = False,
        progress_bar: Annotated[
            bool,
            typer.Option(
                "--progress/--no-progress",
                help="Show a progress bar (with --log-format json: a progress line every "
                f"{PROGRESS_LOG_S:g} s).",
            ),
        ] = True,
        lease: Annotated[float, typer.Option("--lease", help="Lease length in seconds.")] = 30.0,
        redis_url: RedisOption = None,
        database: DatabaseOption = DEFAULT_DATABASE,
        metrics_port: MetricsPortOption = None,
        log_format: LogFormatOption = LogFormat.text,
    ) -> None:
        """Run (or resume) a campaign until every recipient is done. Several processes (hosts)
        on one PostgreSQL database share the work; with a TPS they need --redis."""
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        from ..campaign import Progress as RunProgress
        from ..campaign import RunStopped
        from ..errors import RcsError
        from ..gcpolicy import freeze_startup

        console = Console(stderr=True)
        _metrics = start_observability(log_format, metrics_port)  # serves until the process ends
        json_lines = json_notes()

        async def go() -> RunSummary:
            http_client_choice(os.environ)  # a typo is refused before any claim
            redis = _redis_client(redis_url)
            try:
                async with await _open(database, must_exist=True) as store:
                    campaign = await _campaign(store, campaign_id)
                    freeze_startup()  # a long full collection mid-run would stall the pace

                    def run_it(**kw: Any) -> Coroutine[Any, Any, RunSummary]:
                        return _run_campaign(
                            store,
                            campaign,
                            secret=client_secret,
                            concurrency=concurrency,
                            resend_unknown=resend_unknown,
                            wait=not no_wait,
                            lease=lease,
                            redis=redis,
                            **kw,
                        )

                    if json_lines:  # no bar redrawn in place: JSON lines
                        return await _run_logged(campaign, run_it, progress=progress_bar)
                    if not progress_bar:
                        return await run_it(notify=_printer(console))
                    with Progress(
                        TextColumn("[bold]{task.description}"),
                        BarColumn(),
                        MofNCompleteColumn(),
                        TaskProgressColumn(),
                        TextColumn("{task.fields[rate]:.1f} sends/s"),
                        TimeElapsedColumn(),
                        TextColumn("ETA"),
                        TimeRemainingColumn(),
                        console=console,
                    ) as bar:
                        task = bar.add_task(f"campaign {campaign.id}", total=None, rate=0.0)

                        def show(p: RunProgress) -> None:
                            bar.update(task, total=p.total, completed=p.done, rate=p.rate())

                        summary = await run_it(on_progress=show, notify=_printer(bar.console))
                        show(summary.progress)
                        return summary
            finally:
                if redis is not None:
                    await redis.aclose()

        try:
            summary = _run_loop(go())
        except RunStopped as err:
            raise _fail(f"run stopped: {err}", 3) from None
        except RcsError as err:
            raise _fail(str(err)) from None
        if not json_lines:
            _print_summary(summary)

    @group.command("status")
    def status(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        database: DatabaseOption = DEFAULT_DATABASE,
        as_json: JsonOption = False,
    ) -> None:
        """Show where a campaign's recipients and messages are."""
        from rich.table import Table

        from ..campaign.sends import CampaignSends, WorkLeft
        from ..errors import RcsError
        from ..store import LiveWorker, MessageState, RecipientStatus

        async def go() -> tuple[
            Campaign,
            dict[RecipientStatus, int],
            dict[MessageState, int],
            int,
            WorkLeft,
            list[LiveWorker],
        ]:
            async with await _open(database, must_exist=True) as store:
                campaign = await _campaign(store, campaign_id)
                sends = CampaignSends(store)
                counts = await sends.campaign_counts(campaign_id, unknown_limit=1)
                unknown = counts.recipients.get(RecipientStatus.UNKNOWN, 0)
                left = await sends.work_left(campaign_id)
                live = await store.workers.live_workers(campaign_id)
                return campaign, counts.recipients, counts.states, unknown, left, live

        try:
            campaign, recipients, states, unknown, left, live = run_coroutine(go())
        except RcsError as err:
            raise _fail(str(err)) from None
        if as_json:
            record = campaign_record(campaign)
            record["recipients"] = {
                s.value: recipients[s] for s in RecipientStatus if s in recipients
            }
            record["total"] = sum(recipients.values())
            record["messages"] = {st.value: states[st] for st in MessageState if st in states}
            record["unknown_outcome"] = unknown
            record["open"] = left.open
            record["ready"] = left.ready
            record["next_at"] = left.next_at
            record["workers"] = [
                {
                    "id": w.id,
                    "host": w.host,
                    "pid": w.pid,
                    "campaign_id": w.campaign_id,
                    "shared_limiter": w.shared_limiter,
                    "leases": w.leases,
                    "lease_until": w.lease_until,
                    "seen_at": w.seen_at,
                }
                for w in live
            ]
            json_line(record)
            return
        console = table_console()
        console.print(
            f"campaign {campaign.id} ({campaign.name}): {campaign.status.value}, "
            f"provider {campaign.provider}, {campaign.tps or '-'} TPS"
        )
        table = Table(title="recipients")
        table.add_column("status")
        table.add_column("count", justify="right")
        for s in RecipientStatus:
            if recipients.get(s):
                table.add_row(s.value, str(recipients[s]))
        table.add_row("total", str(sum(recipients.values())))
        console.print(table)
        if states:
            messages = Table(title="messages")
            messages.add_column("state")
            messages.add_column("count", justify="right")
            for st in MessageState:
                if states.get(st):
                    messages.add_row(st.value, str(states[st]))
            console.print(messages)
        console.print(f"unknown outcome: {unknown}")
        if left.open:
            later = (
                f"; next due at {left.next_at:%Y-%m-%d %H:%M:%S} UTC"
                if left.next_at is not None and left.ready < left.open
                else ""
            )
            console.print(f"open: {left.open} ({left.ready} ready now{later})")
        console.print(f"workers: {len(live)}")
        for w in live:
            serves = w.campaign_id or "every running campaign"
            limiter = "shared limiter" if w.shared_limiter else "own limiter"
            until = f" until {w.lease_until:%H:%M:%S} UTC" if w.lease_until is not None else ""
            console.print(
                f"  {w.host} pid {w.pid} ({serves}, {limiter}): {w.leases} lease(s){until}, "
                f"seen {w.seen_at:%H:%M:%S} UTC",
                markup=False,
                highlight=False,
            )

    def _set_status(campaign_id: str, database: str, wanted: str) -> None:
        from ..campaign import CampaignError
        from ..campaign.sends import CampaignSends
        from ..errors import RcsError
        from ..store import CampaignStatus

        async def go() -> str:
            async with await _open(database, must_exist=True) as store:
                campaign = await _campaign(store, campaign_id)
                now = campaign.status
                if now in (CampaignStatus.DONE, CampaignStatus.CANCELLED):
                    why = f"campaign {campaign_id} is {now.value}: nothing to {wanted}"
                    raise CampaignError(why)
                if wanted == "pause":
                    await store.campaigns.set_campaign_status(campaign_id, CampaignStatus.PAUSED)
                    return (
                        f"campaign {campaign_id} paused: every worker stops sending within a "
                        f"second (`rcskit campaign resume {campaign_id}` resumes it)"
                    )
                if wanted == "resume":
                    if now is CampaignStatus.RUNNING:
                        raise CampaignError(f"campaign {campaign_id} is running already")
                    await store.campaigns.set_campaign_status(campaign_id, CampaignStatus.RUNNING)
                    return (
                        f"campaign {campaign_id} resumed: running workers (`rcskit worker`) "
                        f"take it up within a second, or run `rcskit campaign run {campaign_id}`"
                    )
                await store.campaigns.set_campaign_status(campaign_id, CampaignStatus.CANCELLED)
                cancelled = await CampaignSends(store).cancel_open(campaign_id)
                return (
                    f"campaign {campaign_id} cancelled: {cancelled} open recipient(s) will not "
                    "be sent; workers stop within a second (sends in flight are recorded)"
                )

        try:
            typer.echo(run_coroutine(go()))
        except RcsError as err:
            raise _fail(str(err)) from None

    @group.command("pause")
    def pause(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        database: DatabaseOption = DEFAULT_DATABASE,
    ) -> None:
        """Pause a campaign on every worker (within a second); resume continues it."""
        _set_status(campaign_id, database, "pause")

    @group.command("resume")
    def resume(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        database: DatabaseOption = DEFAULT_DATABASE,
    ) -> None:
        """Resume a paused campaign, or start a new one, for the running `rcskit worker`
        processes (they take it up within a second)."""
        _set_status(campaign_id, database, "resume")

    @group.command("cancel")
    def cancel(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        database: DatabaseOption = DEFAULT_DATABASE,
    ) -> None:
        """Cancel a campaign: its open recipients are never sent (workers stop in a second)."""
        _set_status(campaign_id, database, "cancel")

    @group.command("delete")
    def delete_(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        yes: Annotated[
            bool,
            typer.Option(
                "--yes", help="Delete without asking (needed when standard input is no terminal)."
            ),
        ] = False,
        batch: Annotated[
            int,
            typer.Option("--batch", min=1, help="Rows per transaction (messages or recipients)."),
        ] = 5000,
        database: DatabaseOption = DEFAULT_DATABASE,
    ) -> None:
        """Delete a finished (done or cancelled) or never started campaign: its recipients,
        messages and their history, in short transactions; run it again if interrupted."""
        import sys

        from ..campaign.purge import Deleted, delete_campaign
        from ..errors import RcsError

        if not yes:
            if not sys.stdin.isatty():
                raise _fail(f"deleting campaign {campaign_id} cannot be undone: add --yes", 2)
            if not typer.confirm(f"Delete campaign {campaign_id} and all its messages?"):
                raise _fail("nothing deleted", 1)

        def show(totals: Deleted) -> None:
            progress_note(f"deleted {totals.messages} message(s), {totals.recipients} recipient(s)")

        async def go() -> Deleted:
            async with await _open(database, must_exist=True) as store:
                await _campaign(store, campaign_id)
                return await delete_campaign(store, campaign_id, batch=batch, on_progress=show)

        try:
            deleted = run_coroutine(go())
        except RcsError as err:
            end_progress()
            raise _fail(str(err)) from None
        end_progress()
        typer.echo(
            f"campaign {campaign_id} deleted: {deleted.recipients} recipient(s), "
            f"{deleted.messages} message(s), {deleted.history} history row(s) "
            f"in {deleted.transactions} transaction(s)"
        )

    @group.command("report")
    def report(
        campaign_id: Annotated[str, typer.Argument(help="The campaign id.")],
        out: Annotated[
            Path, typer.Option("--out", help="Folder for the PNG chart and the HTML report.")
        ] = Path("."),
        database: DatabaseOption = DEFAULT_DATABASE,
        as_json: JsonOption = False,
    ) -> None:
        """Print the funnel; write a PNG chart and a self-contained HTML report."""
        from rich.table import Table

        from ..campaign.report import (
            CampaignDetails,
            campaign_details,
            funnel,
            text_rows,
            write_report,
        )
        from ..campaign.sends import CampaignCounts, CampaignSends
        from ..errors import RcsError

        async def go() -> tuple[Campaign, CampaignCounts, list[tuple[int, str]], CampaignDetails]:
            async with await _open(database, must_exist=True) as store:
                campaign = await _campaign(store, campaign_id)
                counts = await CampaignSends(store).campaign_counts(campaign_id)
                rejected = await _rejected(store, campaign_id, 1000)
                return campaign, counts, rejected, await campaign_details(store, campaign_id)

        try:
            campaign, counts, rejected, details = run_coroutine(go())
            f = funnel(counts)
            png, page = write_report(
                campaign, f, out, generated=datetime.now(UTC), rejected=rejected, details=details
            )
        except RcsError as err:
            raise _fail(str(err)) from None
        if as_json:
            record = funnel_record(campaign, f)
            record["chart"] = str(png)
            record["report"] = str(page)
            json_line(record)
            return
        console = table_console()
        table = Table(title=f"campaign {campaign.id} ({campaign.name})")
        table.add_column("stage")
        table.add_column("recipients", justify="right")
        table.add_column("share", justify="right")
        for row in text_rows(f):
            table.add_row(*row)
        console.print(table)
        if f.unknown_lines:
            console.print(f"unknown outcome ({f.unknown}), by line:")
            for line, number in f.unknown_lines[:50]:
                console.print(f"  line {line}: {number}")
            if f.unknown > 50:
                console.print(f"  ... and {f.unknown - 50} more in {page}")
        console.print(f"chart: {png}\nreport: {page}")

    @group.command("list")
    def list_campaigns(
        database: DatabaseOption = DEFAULT_DATABASE, as_json: JsonOption = False
    ) -> None:
        """List campaigns, newest first (with --json, one object per line)."""
        from rich.table import Table

        from ..errors import RcsError

        async def go() -> list[Campaign]:
            async with await _open(database, must_exist=True) as store:
                return await store.campaigns.list_campaigns()

        try:
            found = run_coroutine(go())
        except RcsError as err:
            raise _fail(str(err)) from None
        if as_json:
            for c in found:
                json_line(campaign_record(c))
            return
        table = Table(title=f"{len(found)} campaign(s)")
        for column in ("id", "name", "provider", "status", "created (UTC)"):
            table.add_column(column)
        for c in found:
            table.add_row(
                c.id, c.name, c.provider, c.status.value, f"{c.created_at:%Y-%m-%d %H:%M}"
            )
        table_console().print(table)

    @group.command("webhook")
    def webhook(
        provider: Annotated[
            str, typer.Option("--provider", help="The webhook format: dotgo, dotgo_google ...")
        ],
        host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", min=0, max=65535, help="0: any free port.")
        ] = 9000,
        token: Annotated[
            str | None,
            typer.Option(
                "--token",
                envvar="RCSKIT_WEBHOOK_TOKEN",
                help="Require 'Authorization: Bearer TOKEN' (or RCSKIT_WEBHOOK_TOKEN).",
                show_default=False,
            ),
        ] = None,
        database: DatabaseOption = DEFAULT_DATABASE,
        log_format: LogFormatOption = LogFormat.text,
    ) -> None:
        """Receive the provider's webhooks into the store (statuses, taps) for reports."""
        import uvicorn

        from ..campaign.webhook import webhook_app
        from ..errors import RcsError
        from ..inbound import BearerToken
        from ..serving import listen_or_exit, url_host

        sock = listen_or_exit(host, port)  # a busy port is one line, before anything else
        port = sock.getsockname()[1]
        start_observability(log_format)

        async def go() -> None:
            store = await _open(database, must_exist=False)
            app = webhook_app(
                store,
                provider,
                verifier=BearerToken(token) if token else None,
                close_store=True,
            )
            if token is None:
                announce("warning: no --token: webhook requests are not verified", level=WARNING)
            typer.echo(f"receiving {provider} webhooks on http://{url_host(host)}:{port}/webhook")
            logs = uvicorn_log_options(log_format)
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **logs))
            await server.serve(sockets=[sock])

        try:
            run_coroutine(go())
        except RcsError as err:
            raise _fail(str(err)) from None
        finally:
            sock.close()

    tidy(group)
    return group
