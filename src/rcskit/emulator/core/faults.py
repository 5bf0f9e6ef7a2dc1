"""Deterministic fault injection for one bot's API calls (429, 500, 502, timeout, latency).

Each flavour answers an injected fault in its own error shape::

    fault = await inject(state.faults[bot.id], bot.faults)   # latency and timeout waits done
    if fault == "429":
        ...
"""

from __future__ import annotations

import asyncio
import random
from typing import Literal

from ..config import FaultConfig

__all__ = ["Fault", "FaultInjector", "inject"]

Fault = Literal["429", "500", "502", "timeout"]


class FaultInjector:
    """Draws, per request, whether to inject a fault; the same seed gives the same sequence."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._random = random.Random(config.seed)

    def configure(self, config: FaultConfig) -> None:
        """Use new settings and restart the draw sequence from their seed."""
        self.config = config
        self._random = random.Random(config.seed)

    def draw(self) -> Fault | None:
        """The fault to inject into this request, or ``None``."""
        c = self.config
        if not (c.rate_429 or c.rate_500 or c.rate_502 or c.rate_timeout):
            return None
        table: tuple[tuple[Fault, float], ...] = (
            ("429", c.rate_429),
            ("500", c.rate_500),
            ("502", c.rate_502),
            ("timeout", c.rate_timeout),
        )
        u = self._random.random()
        for fault, rate in table:
            if u < rate:
                return fault
            u -= rate
        return None


async def inject(injector: FaultInjector, config: FaultConfig) -> Fault | None:
    """Apply a bot's fault settings to one request: pick up changed settings, wait the added
    latency, draw a fault; a ``timeout`` fault first holds the request ``timeout_s`` seconds.
    The caller answers the returned fault in its provider's error shape."""
    if injector.config is not config:
        injector.configure(config)
    if config.latency_s:
        await asyncio.sleep(config.latency_s)
    fault = injector.draw()
    if fault == "timeout":
        await asyncio.sleep(config.timeout_s)
    return fault
