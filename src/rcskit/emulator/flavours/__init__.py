"""The provider flavours: one package per platform, and what a flavour contributes.

Each of ``dotgo``, ``orange``, ``smsbox``, ``maap`` and ``google_rbm`` is a package with its
auth, send, files, webhooks and errors modules; its ``__init__`` exports a :class:`Flavour`:
the path prefix it is mounted under, a factory of Starlette routes that share the one
:class:`~rcskit.emulator.core.state.EmulatorState`, the webhook renderers for the bot
providers it serves, and its public base URLs for the start-up banner::

    FLAVOUR = Flavour(
        name="dotgo",
        prefix="/dotgo",
        routes=dotgo_routes,
        renderers={"dotgo": render_gsma, "dotgo_google": render_google},
        endpoints=lambda base: [("Dotgo server_root", f"{base}/dotgo/rcs")],
    )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute

from ..core.events import WebhookRenderer
from ..core.state import EmulatorState

__all__ = ["Flavour"]


@dataclass(frozen=True, slots=True)
class Flavour:
    """One provider flavour: prefix, routes, webhook renderers, base URLs."""

    name: str
    prefix: str
    routes: Callable[[EmulatorState], Sequence[BaseRoute]]
    renderers: Mapping[str, WebhookRenderer]
    endpoints: Callable[[str], list[tuple[str, str]]]
