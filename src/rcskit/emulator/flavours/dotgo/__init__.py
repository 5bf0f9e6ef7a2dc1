"""The Dotgo flavour (seed 002): auth, the GSMA API, the Google API and files, under ``/dotgo``.

With the emulator at ``E = http://127.0.0.1:8000`` a client uses ``server_root = E/dotgo/rcs``
and the token URL ``E/dotgo/auth/oauth/token``; everything after those bases is byte-for-byte
the real API path. Bots with provider ``dotgo`` get GSMA-shaped webhooks, bots with provider
``dotgo_google`` Google-shaped ones (see :mod:`rcskit.emulator.flavours.dotgo.webhooks`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ...core.state import EmulatorState
from .. import Flavour
from .auth import token_endpoint
from .files import files_routes
from .google_api import google_routes
from .gsma_api import gsma_routes
from .webhooks import render_google, render_gsma

__all__ = ["FLAVOUR", "dotgo_routes"]


def dotgo_routes(state: EmulatorState) -> list[BaseRoute]:
    """Every Dotgo route, relative to ``/dotgo``."""
    routes: list[BaseRoute] = [
        Route("/auth/oauth/token", token_endpoint(state), methods=["POST"]),
    ]
    return routes + gsma_routes(state) + google_routes(state) + files_routes(state)


def _endpoints(base: str) -> list[tuple[str, str]]:
    return [
        ("Dotgo server_root (GSMA and Google APIs)", f"{base}/dotgo/rcs"),
        ("Dotgo token URL", f"{base}/dotgo/auth/oauth/token"),
    ]


FLAVOUR = Flavour(
    name="dotgo",
    prefix="/dotgo",
    routes=dotgo_routes,
    renderers={"dotgo": render_gsma, "dotgo_google": render_google},
    endpoints=_endpoints,
)
"""The Dotgo flavour, as :func:`rcskit.emulator.app.create_app` mounts it."""
