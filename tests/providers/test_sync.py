"""The blocking facade drives the same async client from any thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rcskit.client import DotgoConfig
from rcskit.errors import NotRcsCapable, UnsupportedFeature
from rcskit.results import SendResult
from rcskit.sync import SyncRcsClient
from rcskit.transport import HttpRequest, HttpResponse

from .conftest import BOT, FakePlatform, wire_json


def test_eight_threads_share_one_client() -> None:
    loop_threads: set[str] = set()

    def api(req: HttpRequest) -> HttpResponse:
        loop_threads.add(threading.current_thread().name)
        text = wire_json(req)["RCSMessage"]["textMessage"]
        return HttpResponse.of_json(
            202, {"RCSMessage": {"msgId": f"id-{text}", "status": "pending"}}
        )

    platform = FakePlatform(api, token_delay=0.01)
    with SyncRcsClient(DotgoConfig(BOT, "c", "s"), transport=platform.transport) as client:

        def worker(t: int) -> list[SendResult]:
            return [client.send("+914253136789", f"{t}-{i}") for i in range(25)]

        with ThreadPoolExecutor(8) as pool:
            batches = list(pool.map(worker, range(8)))
        ids = {r.message_id for batch in batches for r in batch}
        assert len(ids) == 200 and "id-7-24" in ids
        assert platform.token_count == 1
        assert loop_threads == {"rcskit-sync-loop"}  # all I/O on the private loop
        thread = client._thread
    assert not thread.is_alive()


def test_results_and_errors_cross_the_thread() -> None:
    def api(req: HttpRequest) -> HttpResponse:
        if "contactCapabilities" in req.url:
            return HttpResponse.of_json(
                404, {"status": "Error", "message": "Number is rcs disabled"}
            )
        return HttpResponse(204)

    platform = FakePlatform(api)
    client = SyncRcsClient(DotgoConfig(BOT, "c", "s"), transport=platform.transport)
    try:
        caps = client.capabilities("+914253136788")
        assert not caps.rcs_enabled
        client.mark_read("m-1")
        with pytest.raises(UnsupportedFeature):
            client.add_tester("+914253136788")
        assert isinstance(
            client.client.provider.map_error(HttpResponse(404, {}, b""), "send"), NotRcsCapable
        )
    finally:
        client.close()
    client.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        client.status("m-1")
    assert "closed" in repr(client)


def _loop_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "rcskit-sync-loop" and t.is_alive())


def test_bad_options_fail_in_the_constructor_and_leave_no_thread() -> None:
    before = _loop_threads()
    with pytest.raises(ValueError, match="timeout"):
        SyncRcsClient(DotgoConfig(BOT, "c", "s"), timeout=0)
    assert _loop_threads() == before
