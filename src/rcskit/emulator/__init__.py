"""The rcskit emulator: a local RBM platform speaking the providers' APIs, with simulated phones.

It is the other side of the wire and never imports rcskit's client, providers, app, campaign,
store or CLI code (only the pure core: message, limits, formats, errors, phones, events).

Layout: ``core/`` is the platform (state and its change hook, clock, phones, delivery,
outgoing webhooks, records, request log, scheduler, admin API, user actions); ``bodies/``
reads and checks message bodies in the GSMA and Google formats; ``flavours/<provider>/`` is
each platform's API (auth, send, files, webhooks, errors); ``ui/`` is the web UI;
``app.py`` assembles them (:func:`create_app`) and ``config.py`` is the configuration.

Start it with ``rcskit emulator`` or build the ASGI app in-process::

    from rcskit.emulator import ManualClock, create_app, default_config

    app = create_app(default_config(), clock=ManualClock())
    state = app.state.emulator        # the EmulatorState: phones, messages, request log, timers
"""

from __future__ import annotations

from .app import create_app, serve
from .config import EmulatorConfig, EmulatorConfigError, default_config, load_config
from .core import user_actions
from .core.clock import Clock, ManualClock, OffsetClock, SystemClock
from .core.state import EmulatorState

__all__ = [
    "Clock",
    "EmulatorConfig",
    "EmulatorConfigError",
    "EmulatorState",
    "ManualClock",
    "OffsetClock",
    "SystemClock",
    "create_app",
    "default_config",
    "load_config",
    "serve",
    "user_actions",
]
