"""What a provider flavour contributes to the emulator.

A flavour is one module (``dotgo.py`` now; Orange, SMSBOX, MaaP and Google later) exporting a
:class:`Flavour`: the path prefix it is mounted under, a factory of Starlette routes that share
the one :class:`~rcskit.emulator.state.EmulatorState`, the webhook renderers for the bot
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

from .events import WebhookRenderer
from .state import EmulatorState

__all__ = ["Flavour"]


@dataclass(frozen=True, slots=True)
class Flavour:
    """One provider flavour: prefix, routes, webhook renderers, base URLs."""

    name: str
    prefix: str
    routes: Callable[[EmulatorState], Sequence[BaseRoute]]
    renderers: Mapping[str, WebhookRenderer]
    endpoints: Callable[[str], list[tuple[str, str]]]
