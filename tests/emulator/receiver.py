"""A webhook receiver on 127.0.0.1 (aiohttp) that records what it gets.

``statuses`` is a queue of HTTP statuses to answer with (200 once it is empty).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.statuses: list[int] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        body = await request.read()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.received.append(json.loads(body))
        return web.Response(status=status, text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/webhook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        """GSMA bodies with ``event == name`` (all bodies when ``name`` is None)."""
        return [b for b in self.received if name is None or b.get("event") == name]

    def statuses_of(self, msg_id: str) -> list[str]:
        """GSMA messageStatus values posted for ``msg_id``, in order."""
        return [
            b["RCSMessage"]["status"]
            for b in self.received
            if b.get("event") == "messageStatus" and b["RCSMessage"].get("msgId") == msg_id
        ]

    def billing(self) -> list[dict[str, Any]]:
        return [b for b in self.received if "billingEventType" in b or "billing_event_type" in b]
