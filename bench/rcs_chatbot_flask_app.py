"""The published ``rcs_chatbot`` 0.0.6 Flask example, as its README runs it, for the benchmark.

The README's echo bot (seed 003; upstream ``example/echobot.py``): a ``rcs_chatbot.Chatbot``,
a Flask app whose ``POST /`` hands ``flask.request.get_json()`` to ``chatbot.processEvent``
and answers ``"ok", 200``, handlers registered with ``@chatbot.registerEventHandler``, and
``app.run(port=..., debug=False)`` (Werkzeug's threaded server). Two changes, both needed to
measure it like the rcskit bot:

- the message handler records the latency (the send timestamp the load generator put in the
  text) instead of answering through ``chatbot.sendMessage``, which would POST to a real MaaP;
  this is the same trivial handler the rcskit bot runs in the benchmark;
- the port and the latency file come from the environment (``BENCH_PORT``,
  ``BENCH_LATENCY_FILE``), and the latencies are written when the server stops (SIGINT).

Needs ``pip install rcs_chatbot==0.0.6 flask requests`` (not rcskit dependencies).
Run by ``bench/webhooks.py``; not part of the rcskit package.
"""

from __future__ import annotations

import contextlib
import json
import os
import time

import flask
import rcs_chatbot  # type: ignore[import-untyped]

chatbot = rcs_chatbot.Chatbot("http://127.0.0.1:9/rcs/bot/v1", "bench-bot", "bench-token", None)

app = flask.Flask(__name__)

LATENCIES: dict[str, list[float]] = {}


@app.route("/", methods=["POST"])
def event() -> tuple[str, int]:
    """The README's webhook route."""
    try:
        chatbot.processEvent(flask.request.get_json())
        return "ok", 200
    except rcs_chatbot.RequestFailed as ex:
        print("Request failed: " + str(ex))
        return "ok", 200


@chatbot.registerEventHandler(rcs_chatbot.EventType.MESSAGE)  # type: ignore[untyped-decorator]
def messageHandler(event: dict[str, object]) -> None:  # noqa: N802 - the README's name
    """The trivial handler: the latency since the send time in the text (``t=<perf_counter>``)."""
    rcs = event["RCSMessage"]
    assert isinstance(rcs, dict)
    text = str(rcs["textMessage"])
    LATENCIES.setdefault(text[0], []).append(time.perf_counter() - float(text[2:]))


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        app.run(port=int(os.environ.get("BENCH_PORT", "3000")), debug=False)
    target = os.environ.get("BENCH_LATENCY_FILE")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump({"latencies": LATENCIES, "stats": {}}, out)
