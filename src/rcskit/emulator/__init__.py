"""The rcskit emulator: a local RBM platform speaking the providers' APIs, with simulated phones.

It is the other side of the wire and never imports rcskit's client, providers, auth, inbound
or app code. Start it with ``rcskit emulator`` or build the ASGI app in-process::

    from rcskit.emulator import ManualClock, create_app, default_config

    app = create_app(default_config(), clock=ManualClock())
    state = app.state.emulator        # the EmulatorState: phones, messages, request log, timers
"""

from __future__ import annotations

from .app import create_app, serve
from .clock import Clock, ManualClock, OffsetClock, SystemClock
from .config import EmulatorConfig, EmulatorConfigError, default_config, load_config
from .state import EmulatorState

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
]
