"""Run an ASGI app under a real uvicorn server on a free 127.0.0.1 port, in a background task
of the test's event loop, and stop it afterwards.

::

    async with serving(lambda base: create_demo(base)) as (demo, base):
        ...                          # base is "http://127.0.0.1:<port>"
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp

from rcskit.demo.server import Demo, bind, server_for


@contextlib.asynccontextmanager
async def serving(build: Callable[[str], Demo]) -> AsyncIterator[Demo]:
    """Start ``build(base_url)``'s app on a free port; stop it (and its live streams) after."""
    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    demo = build(base)
    server = server_for(demo, log_level="error")
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        assert server.started, "the server did not start within 5 s"
        yield demo
    finally:
        demo.close_streams()
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)


async def admin(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None
) -> tuple[int, Any]:
    """Call the emulator's admin API over HTTP; ``(status, JSON body)``."""
    async with session.request(method, url, json=body) as resp:
        return resp.status, json.loads(await resp.read() or b"null")


async def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Await ``check()`` (a coroutine function) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        await asyncio.sleep(interval)
