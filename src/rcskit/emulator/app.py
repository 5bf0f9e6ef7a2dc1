"""The emulator application: every flavour and the admin API in one Starlette app.

::

    from rcskit.emulator.app import create_app
    from rcskit.emulator.config import default_config

    app = create_app(default_config())          # an ASGI app; run it with uvicorn

``rcskit emulator`` starts it on 127.0.0.1:8000 and prints the base URLs
and bot ids (client secrets only with ``--show-credentials``).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from ..observability import (
    CONTENT_TYPE,
    EMULATOR,
    MetricsUnavailable,
    PrometheusExposition,
)
from .config import (
    EmulatorConfig,
    EmulatorConfigError,
    default_config,
)
from .core.admin import admin_routes
from .core.clock import Clock
from .core.recorder import RequestRecorder
from .core.state import EmulatorState
from .flavours import Flavour, dotgo, google_rbm, maap, orange, smsbox
from .ui import mount_ui

__all__ = ["ADMIN_PREFIX", "FLAVOURS", "banner", "create_app", "serve"]

FLAVOURS: tuple[Flavour, ...] = (
    dotgo.FLAVOUR,
    orange.FLAVOUR,
    smsbox.FLAVOUR,
    maap.FLAVOUR,
    google_rbm.FLAVOUR,
)
"""The provider flavours the emulator serves (each module adds its ``FLAVOUR`` here)."""

ADMIN_PREFIX = "/_emulator"


def create_app(
    config: EmulatorConfig | None = None,
    clock: Clock | None = None,
    flavours: Sequence[Flavour] = FLAVOURS,
) -> Starlette:
    """The emulator as an ASGI app; ``app.state.emulator`` is its :class:`EmulatorState`.

    Every bot's provider must be served by one of ``flavours``. The background timer task
    starts with the app's lifespan; without a lifespan (an in-process test) drive timers with
    ``await state.run_due()`` or ``await state.advance(seconds)``.
    """
    config = config or default_config()
    renderers = {key: r for f in flavours for key, r in f.renderers.items()}
    orphans = sorted({b.provider for b in config.bots} - renderers.keys())
    if orphans:
        raise EmulatorConfigError(f"no flavour serves provider(s): {', '.join(orphans)}")
    state = EmulatorState(config, clock, renderers)
    routes: list[BaseRoute] = [
        Mount(f.prefix, app=RequestRecorder(Router(list(f.routes(state))), state, f.name))
        for f in flavours
    ]
    routes.append(Mount(ADMIN_PREFIX, routes=admin_routes(state)))
    routes.append(Route("/metrics", metrics_endpoint(), methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            await state.aclose()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.emulator = state
    mount_ui(app, state, ADMIN_PREFIX)  # the web UI at / (rcskit.emulator.ui)
    return app


def metrics_endpoint() -> Any:
    """``GET /metrics``: the emulator's ``rcskit_emulator_*`` metrics in Prometheus text format.

    Needs ``rcskit[metrics]``; without it the route answers 503 and says what to install.
    """
    exposition: list[PrometheusExposition] = []

    async def metrics(_request: Request) -> Response:
        if not exposition:
            try:
                exposition.append(PrometheusExposition([EMULATOR]))
            except MetricsUnavailable as exc:
                return PlainTextResponse(str(exc), status_code=503)
        return Response(exposition[0].render(), media_type=CONTENT_TYPE)

    return metrics


def banner(
    config: EmulatorConfig,
    base: str,
    *,
    show_credentials: bool = False,
    flavours: Sequence[Flavour] = FLAVOURS,
) -> str:
    """What ``rcskit emulator`` prints at start: base URLs, bots, and secrets only if asked."""
    lines = [f"rcskit emulator on {base}", ""]
    for flavour in flavours:
        for label, url in flavour.endpoints(base):
            lines.append(f"  {label}: {url}")
    lines.append(f"  Admin API: {base}{ADMIN_PREFIX}/")
    lines.append(f"  Metrics: {base}/metrics")
    lines.append(f"  Web UI: {base}/")
    lines.append("")
    lines.append("Bots:")
    for bot in config.bots:
        lines.append(f"  {bot.id}  provider={bot.provider}  client_id={bot.client_id}")
        if show_credentials:
            for name, value in bot.secret_credentials().items():
                shown = value if "\n" not in value else value.replace("\n", "\n      ")
                lines.append(f"    {name}: {shown}")
    if not show_credentials:
        lines.append("  (secrets hidden; use --show-credentials to print them)")
    return "\n".join(lines)


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    config: EmulatorConfig | None = None,
    *,
    sock: socket.socket | None = None,
    json_logs: bool = False,
) -> None:
    """Run the emulator with uvicorn until interrupted (on ``sock`` if given: a socket that
    already listens, as ``rcskit emulator`` binds before it prints anything). With
    ``json_logs`` uvicorn leaves logging alone, so its records reach the JSON log handler."""
    import uvicorn

    from ..gcpolicy import keep_freezing

    app = create_app(config)
    keep_freezing()  # no long full-collection pauses: they would bunch the requests we count
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 3,  # open phone pages (live streams) must not hold Ctrl-C
    }
    if json_logs:
        options["log_config"] = None
    if sock is not None:
        from ..serving import serve_on

        serve_on(app, sock, **options)
        return
    uvicorn.run(app, host=host, port=port, **options)
