"""The emulator's web UI: simulated phones in a browser, live.

``/`` lists the phones; ``/phones/{number}`` shows one phone's conversation with a bot as a
messaging app would (bubbles, rich cards, carousels, suggestion chips, files, audio,
locations, the typing indicator, delivered and read marks) beside the raw API traffic and
webhook deliveries. Taps, replies, shared locations and files go through the emulator's user
actions, so the bot receives its provider's webhook. Pages update live over Server-Sent
Events. Everything (HTML, CSS, a small script) ships in the package: no build step, no CDN,
works offline; media URLs are shown by the browser and never fetched by the server.

:func:`rcskit.emulator.app.create_app` mounts it with :func:`mount_ui`.
"""

from __future__ import annotations

from starlette.applications import Starlette

from ..core.state import EmulatorState
from .feed import ChangeFeed, feed_of
from .routes import ui_routes

__all__ = ["ChangeFeed", "feed_of", "mount_ui", "ui_routes"]


def mount_ui(app: Starlette, state: EmulatorState, admin_prefix: str) -> None:
    """Add the web UI to the emulator ``app`` (after its other routes); its live pages follow
    the state through :func:`feed_of`."""
    app.router.routes.extend(ui_routes(state, admin_prefix))
    feed_of(state)
