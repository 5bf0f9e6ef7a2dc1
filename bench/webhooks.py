"""Webhook benchmark: events/s the bot app accepts, beside a bare handler and rcs_chatbot.

One run, on loopback, each server in its own process, the same load for every row: a load
generator of our own (an aiohttp client in another process, 64 concurrent keep-alive
connections) POSTs the seed's GSMA ``message`` webhook (``tests/data/seeds/maap/
webhook_message.json``) with a fresh ``msgId`` per request, so de-duplication never
short-circuits, and the send time (``time.perf_counter()``, a system-wide monotonic clock on
Linux) in the text, so the handler can record the end-to-end latency.

Rows:

(a) a bare aiohttp handler that reads the body, parses the JSON and answers 200 (on asyncio's
    own loop, and on uvloop when it is installed);
(b) the rcskit bot app: ``StaticToken`` verification, GSMA parsing, de-duplication in memory
    and a trivial async handler, served by uvicorn (one worker; uvloop + httptools when
    installed);
(c) the same with durable de-duplication: the SQLite inbox (the event is committed before the
    200, in groups);
(d) the published ``rcs_chatbot`` 0.0.6 Flask example as its README runs it
    (``bench/rcs_chatbot_flask_app.py``; skipped with a note when ``rcs_chatbot`` or ``flask``
    is not installed: ``pip install rcs_chatbot==0.0.6 flask requests``).

Latency, for (b), (c) and (d): from just before the client's POST to the end of the handler,
under the full load (64 in flight) and one request at a time. The servers write what their
handler recorded to a file when they stop.

Run ``python bench/webhooks.py`` (about a minute), or through ``python bench/run.py``. With
``RCSKIT_BENCH_BASELINE_SRC=/path/to/other/src`` the section also compares the bot app alone
(in process) with that other version of the library, rounds interleaved in the same run
(``python bench/webhooks.py compare /path/to/other/src`` prints only that).
Internally the same file is the servers and the load generator (``_serve`` / ``_load``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve()
SEED_BODY = ROOT / "tests/data/seeds/maap/webhook_message.json"
TOKEN = "bench-verification-token"
REQUESTS = 20_000
WARMUP = 1_000
SEQUENTIAL = 500
CONCURRENCY = 64
MAX_SECONDS = 25.0
ROUNDS = 3


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


UVLOOP = _has("uvloop")
HTTPTOOLS = _has("httptools")


# ---------------------------------------------------------------------------- the request body


def body_template() -> bytes:
    """The seed's GSMA ``message`` body with ``%s`` slots for the msgId and the text."""
    body = json.loads(SEED_BODY.read_text())
    body["RCSMessage"]["msgId"] = "@ID@"
    body["RCSMessage"]["textMessage"] = "@TEXT@"
    text = json.dumps(body, indent=2).replace("%", "%%")
    return text.replace("@ID@", "%s").replace("@TEXT@", "%s").encode()


# ---------------------------------------------------------------------------- servers


def _record(text: str, latencies: dict[str, list[float]]) -> None:
    """The trivial handler's work: ``t=<send time>`` -> latency into the list of its phase."""
    latencies.setdefault(text[0], []).append(time.perf_counter() - float(text[2:]))


def _serve_bare(port: int, loop_name: str) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        json.loads(await request.read())
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/webhook", handle)
    loop = None
    if loop_name == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=loop)


def _serve_bot(port: int, dedup: str, latency_file: str) -> None:
    import uvicorn

    from rcskit.app import Bot
    from rcskit.events import UserMessage
    from rcskit.inbound.verify import StaticToken

    latencies: dict[str, list[float]] = {}
    bot = Bot(provider="maap", verifier=StaticToken(TOKEN), dedup=dedup, name="bench")

    @bot.on_message()
    async def record(event: UserMessage) -> None:
        _record(event.text or "", latencies)

    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            bot.asgi,
            host="127.0.0.1",
            port=port,
            loop="uvloop" if UVLOOP else "asyncio",
            http="httptools" if HTTPTOOLS else "h11",
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
    stats = dict(bot.stats)
    commits = getattr(getattr(bot, "inbox", None), "commits", None)
    if commits is not None:
        stats["commits"] = commits
    Path(latency_file).write_text(json.dumps({"latencies": latencies, "stats": stats}))


def _serve(kind: str, port: int, extra: str, latency_file: str) -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if kind == "bare":
        _serve_bare(port, extra)
    elif kind == "bot":
        _serve_bot(port, extra, latency_file)
    else:
        raise SystemExit(f"unknown server kind {kind!r}")


# ---------------------------------------------------------------------------- load generator


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


async def _drive(
    url: str, server_pid: int, n: int, warmup: int, sequential: int, deadline: float
) -> dict[str, Any]:
    import aiohttp

    template = body_template()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    statuses: Counter[int] = Counter()
    run = os.getpid()

    async def phase(count: int, concurrency: int, mark: str, stop_at: float) -> tuple[int, float]:
        counter = iter(range(count))
        mark_bytes = mark.encode()
        done = 0

        async def worker() -> None:
            nonlocal done
            for i in counter:
                if time.perf_counter() > stop_at:
                    return
                msg_id = b"bench-%d-%s-%d" % (run, mark_bytes, i)
                body = template % (msg_id, b"%s=%r" % (mark_bytes, time.perf_counter()))
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    statuses[resp.status] += 1
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, time.perf_counter() - start

    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None),
        skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),
        auto_decompress=False,
    ) as session:
        await phase(warmup, CONCURRENCY, "w", deadline)
        statuses.clear()
        cpu0 = _cpu_ticks(server_pid)
        client0 = time.process_time()
        done, wall = await phase(n, CONCURRENCY, "t", deadline)
        client_cpu = time.process_time() - client0
        cpu1 = _cpu_ticks(server_pid)
        loaded_statuses = dict(statuses)
        seq_done, seq_wall = await phase(sequential, 1, "s", deadline + 10)
    ticks = os.sysconf("SC_CLK_TCK")
    server_cpu = (cpu1 - cpu0) / ticks if cpu0 is not None and cpu1 is not None else None
    return {
        "done": done,
        "wall": wall,
        "statuses": loaded_statuses,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
        "sequential": seq_done,
        "sequential_wall": seq_wall,
    }


def _load(url: str, server_pid: int, n: int, warmup: int, sequential: int, seconds: float) -> None:
    if UVLOOP:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    deadline = time.perf_counter() + seconds
    result = asyncio.run(_drive(url, server_pid, n, warmup, sequential, deadline))
    print(json.dumps(result))


# ---------------------------------------------------------------------------- in process


async def _in_process(dedup: str, n: int) -> dict[str, float]:
    from rcskit.app import Bot
    from rcskit.events import UserMessage
    from rcskit.inbound.verify import StaticToken

    bot = Bot(provider="maap", verifier=StaticToken(TOKEN), dedup=dedup, name="bench")
    handled = 0

    @bot.on_message()
    async def count(event: UserMessage) -> None:
        nonlocal handled
        handled += 1

    await bot.start()
    app = bot.asgi
    template = body_template()
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {TOKEN}".encode()),
    ]

    async def one(i: int) -> None:
        body = template % (b"in-process-%d" % i, b"t=0.0")
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/webhook",
            "root_path": "",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000),
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return messages.pop()

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        await app(scope, receive, send)
        if status != [200]:
            raise RuntimeError(f"in-process request answered {status}")

    async def batch(start: int, stop: int) -> None:
        for first in range(start, stop, CONCURRENCY):
            await asyncio.gather(*(one(i) for i in range(first, min(stop, first + CONCURRENCY))))
        await bot.join()

    await batch(0, WARMUP)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await batch(WARMUP, WARMUP + n)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await bot.stop()
    if handled != WARMUP + n:
        raise RuntimeError(f"handled {handled} of {WARMUP + n} events")
    return {"cpu_us": cpu / n * 1e6, "rate": n / wall}


def _in_process_main(dedup: str, n: int) -> None:
    if UVLOOP:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    print(json.dumps(asyncio.run(_in_process(dedup, n))))


def measure_in_process(folder: Path, n: int = 10_000) -> dict[str, float]:
    """CPU µs per event of the bot app alone (no server, no socket): best of ``ROUNDS``."""
    out: dict[str, float] = {}
    for name in ("memory", "sqlite"):
        runs = []
        for i in range(ROUNDS):
            dedup = "memory" if name == "memory" else str(folder / f"in-process-{i}.sqlite3")
            done = subprocess.run(
                [sys.executable, str(HERE), "_in_process", dedup, str(n)],
                capture_output=True,
                timeout=120,
                cwd=ROOT,
            )
            if done.returncode != 0:
                raise RuntimeError(f"in-process run failed: {done.stderr.decode()[-2000:]}")
            runs.append(float(json.loads(done.stdout)["cpu_us"]))
        out[name] = min(runs)
    return out


def compare_in_process(baseline_src: Path, rounds: int = 5, n: int = 10_000) -> str:
    """The bot app alone, in process, for a baseline source tree and this one, side by side.

    ``python bench/webhooks.py compare /path/to/old/src``: the same harness (this file) runs
    each library (its ``src`` first on ``PYTHONPATH``), rounds interleaved (baseline, this,
    baseline, ...) so that the load of a shared machine hits both alike; best of ``rounds``.
    """
    trees = (("baseline", baseline_src.resolve()), ("this tree", (ROOT / "src").resolve()))
    cpu: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="rcskit-bench-compare-") as tmp:
        for i in range(rounds):
            for label, src in trees:
                for name in ("memory", "sqlite"):
                    dedup = "memory" if name == "memory" else str(Path(tmp) / f"{label}-{i}.db")
                    done = subprocess.run(
                        [sys.executable, str(HERE), "_in_process", dedup, str(n)],
                        capture_output=True,
                        timeout=300,
                        cwd=tmp,
                        env={**os.environ, "PYTHONPATH": str(src)},
                    )
                    if done.returncode != 0:
                        raise RuntimeError(f"{label}: {done.stderr.decode()[-2000:]}")
                    value = float(json.loads(done.stdout)["cpu_us"])
                    cpu.setdefault((label, name), []).append(value)
    lines = [
        f"In-process CPU µs per event, best of {rounds} interleaved rounds of {n:,} requests "
        "(all rounds in brackets):",
        "",
        "| library | de-dup in memory | SQLite inbox |",
        "|---|---:|---:|",
    ]
    for label, src in trees:
        cells = [
            f"{min(cpu[(label, name)]):.1f} ({', '.join(f'{v:.0f}' for v in cpu[(label, name)])})"
            for name in ("memory", "sqlite")
        ]
        lines.append(f"| {label} (`{src}`) | {cells[0]} | {cells[1]} |")
    for name in ("memory", "sqlite"):
        before, after = min(cpu[("baseline", name)]), min(cpu[("this tree", name)])
        lines.append(f"- {name}: this tree / baseline = {after / before:.0%}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- orchestration


@dataclass
class Row:
    """One measured server."""

    label: str
    rate: float | None = None
    done: int = 0
    cpu_us: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)
    loaded: list[float] = field(default_factory=list)
    single: list[float] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    note: str = ""
    rounds: list[float] = field(default_factory=list)
    client_us: float | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server not listening on {port} after {seconds}s")


def _measure(label: str, command: list[str], url_path: str, latency_file: Path | None) -> Row:
    port = _free_port()
    env = {**os.environ, "BENCH_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    if latency_file is not None:
        env["BENCH_LATENCY_FILE"] = str(latency_file)
    command = [part.replace("{port}", str(port)) for part in command]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    row = Row(label)
    try:
        _wait_listening(port, server)
        load = subprocess.run(
            [
                sys.executable,
                str(HERE),
                "_load",
                f"http://127.0.0.1:{port}{url_path}",
                str(server.pid),
                str(REQUESTS),
                str(WARMUP),
                str(SEQUENTIAL),
                str(MAX_SECONDS),
            ],
            capture_output=True,
            timeout=MAX_SECONDS + 60,
            cwd=ROOT,
        )
        if load.returncode != 0:
            raise RuntimeError(f"load generator failed: {load.stderr.decode()[-2000:]}")
        result = json.loads(load.stdout)
        row.done = result["done"]
        row.rate = result["done"] / result["wall"]
        row.statuses = {str(k): v for k, v in result["statuses"].items()}
        if result["server_cpu"] is not None and row.done:
            row.cpu_us = result["server_cpu"] / row.done * 1e6
        if row.done:
            row.client_us = result["client_cpu"] / row.done * 1e6
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
    if latency_file is not None and latency_file.exists():
        recorded = json.loads(latency_file.read_text())
        row.loaded = recorded["latencies"].get("t", [])
        row.single = recorded["latencies"].get("s", [])
        row.stats = recorded.get("stats", {})
    return row


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def _latency(values: list[float]) -> str:
    if not values:
        return "-"
    p50 = _percentile(values, 50) * 1e3
    p99 = _percentile(values, 99) * 1e3
    return f"{p50:.2f} / {p99:.2f}"


def _rcs_chatbot_missing() -> str | None:
    missing = [m for m in ("rcs_chatbot", "flask", "requests") if not _has(m)]
    if missing:
        return (
            f"skipped: {', '.join(missing)} not installed "
            "(`pip install rcs_chatbot==0.0.6 flask requests`)"
        )
    return None


def measure_all(rounds: int = ROUNDS) -> list[Row]:
    """Run every row (rows (a) to (c) ``rounds`` times, interleaved; the best round is kept)."""
    me = [sys.executable, str(HERE), "_serve"]
    flask_label = "(d) rcs_chatbot 0.0.6 Flask example (app.run, Werkzeug threaded)"
    best: dict[str, Row] = {}
    with tempfile.TemporaryDirectory(prefix="rcskit-bench-", dir=ROOT / "bench") as tmp:
        folder = Path(tmp)
        for n in range(rounds):
            plan: list[tuple[str, list[str], Path | None]] = [
                ("(a) bare aiohttp, asyncio loop", [*me, "bare", "{port}", "asyncio", "-"], None)
            ]
            if UVLOOP:
                plan.append(
                    ("(a) bare aiohttp, uvloop", [*me, "bare", "{port}", "uvloop", "-"], None)
                )
            lat_b, lat_c = folder / f"b{n}.json", folder / f"c{n}.json"
            db = folder / f"inbox{n}.sqlite3"
            plan += [
                (
                    "(b) rcskit bot, de-dup in memory",
                    [*me, "bot", "{port}", "memory", str(lat_b)],
                    lat_b,
                ),
                (
                    "(c) rcskit bot, durable de-dup (SQLite inbox)",
                    [*me, "bot", "{port}", str(db), str(lat_c)],
                    lat_c,
                ),
            ]
            for label, command, latency_file in plan:
                row = _measure(label, command, "/webhook", latency_file)
                row.rounds = (
                    [*best[label].rounds, row.rate or 0.0] if label in best else [row.rate or 0.0]
                )
                if label not in best or (row.rate or 0) > (best[label].rate or 0):
                    best[label] = row
                else:
                    best[label].rounds = row.rounds
        missing = _rcs_chatbot_missing()
        if missing is None:
            lat_d = folder / "d.json"
            flask_app = str(ROOT / "bench/rcs_chatbot_flask_app.py")
            best[flask_label] = _measure(flask_label, [sys.executable, flask_app], "/", lat_d)
        else:
            best[flask_label] = Row(flask_label, note=missing)
    return list(best.values())


def _ratio(top: Row | None, bottom: Row | None) -> str:
    if top is None or bottom is None or not top.rate or not bottom.rate:
        return "n/a"
    return f"{top.rate / bottom.rate * 100:.0f}%"


def _cpu_ratio(bare: Row | None, other: Row | None) -> str:
    if bare is None or other is None or not bare.cpu_us or not other.cpu_us:
        return "n/a"
    return f"{bare.cpu_us / other.cpu_us * 100:.0f}%"


def render(rows: list[Row], in_process: dict[str, float] | None = None) -> str:
    """The Markdown section for ``rows`` (and the in-process CPU figures)."""
    by: dict[str, Row] = {}
    for row in rows:
        by.setdefault(row.label[:3], row)
    bare_asyncio = by.get("(a)")
    bare = next((r for r in rows if r.label.startswith("(a)") and "uvloop" in r.label), None)
    bare = bare or bare_asyncio
    server = (
        f"uvicorn, 1 worker, `--loop {'uvloop' if UVLOOP else 'asyncio'} "
        f"--http {'httptools' if HTTPTOOLS else 'h11'}`"
    )
    lines = [
        "## Webhooks: events/s accepted by the bot app (`python bench/run.py webhooks`)",
        "",
        f"Load: {REQUESTS:,} POSTs of the seed's GSMA `message` webhook (a unique msgId each, "
        f"one contact), {CONCURRENCY} concurrent keep-alive connections from an aiohttp client "
        f"in its own process, after {WARMUP:,} warm-up requests; loopback; each server in its "
        f"own process. Rows (a)-(c) ran {ROUNDS} times, interleaved; the best round is shown "
        f"(all rounds in the last column). rcskit rows: {server}; `StaticToken` verification, "
        "GSMA parsing, a trivial async handler. Server CPU: the server process's user+system "
        "time over the measured requests. Latency: from just before the client's POST to the "
        "end of the handler.",
        "",
        "| server | events/s | server CPU µs/event | non-200 | latency p50 / p99 ms "
        f"at {CONCURRENCY} in flight | latency p50 / p99 ms one at a time | events/s per round |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        if row.rate is None:
            lines.append(f"| {row.label} | {row.note or 'failed'} | | | | | |")
            continue
        bad = sum(v for k, v in row.statuses.items() if k != "200")
        cpu = f"{row.cpu_us:.0f}" if row.cpu_us is not None else "-"
        rounds = ", ".join(f"{r:,.0f}" for r in row.rounds) or f"{row.rate:,.0f}"
        lines.append(
            f"| {row.label} | {row.rate:,.0f} | {cpu} | {bad} | {_latency(row.loaded)} "
            f"| {_latency(row.single)} | {rounds} |"
        )
    b, c, d = by.get("(b)"), by.get("(c)"), by.get("(d)")
    client = [r.client_us for r in rows if r.client_us and not r.label.startswith("(d)")]
    lines += [
        "",
        f"- events/s: (b)/(a) **{_ratio(b, bare)}** (target >= 80%), (c)/(a) "
        f"**{_ratio(c, bare)}** (target >= 50%), (c)/(d) **{_ratio(c, d)}**; (a) is the bare "
        f"handler on {'uvloop' if bare is not bare_asyncio else 'asyncio'} (against the bare "
        f"handler on asyncio's loop: (b) {_ratio(b, bare_asyncio)}, (c) "
        f"{_ratio(c, bare_asyncio)}).",
        f"- server CPU per event, bare/rcskit (the ratio of events/s if the server alone were "
        f"the limit): (b) {_cpu_ratio(bare, b)}, (c) {_cpu_ratio(bare, c)}. The load generator "
        f"spent {min(client, default=0):.0f}-{max(client, default=0):.0f} µs of CPU per request: "
        "with two cores, it is the limit for the rows that cost less than that.",
    ]
    if in_process:
        lines.append(
            f"- The bot app alone, in process (requests through `bot.asgi` with an in-memory "
            f"ASGI call: no server, no socket; best of {ROUNDS}): "
            f"**{in_process['memory']:.1f} µs** of CPU per event with de-duplication in memory, "
            f"**{in_process['sqlite']:.1f} µs** with the SQLite inbox (verification, parsing, "
            "de-duplication, queueing, the handler, and for the inbox its row and its `done` "
            "mark)."
        )
    for measured in (b, c):
        if measured is not None and measured.stats:
            row = measured
            handled = row.stats.get("handled", 0)
            commits = row.stats.get("commits")
            grouped = (
                f"; {commits:,} SQLite commits, {row.stats.get('accepted', 0) / commits:.1f} "
                "events per commit"
                if commits
                else ""
            )
            lines.append(
                f"- {row.label[:3]}: the handler ran {handled:,} times for "
                f"{row.stats.get('accepted', 0):,} accepted events "
                f"(duplicates {row.stats.get('duplicates', 0)}, failed "
                f"{row.stats.get('failed', 0)}){grouped}."
            )
    lines.append("")
    return "\n".join(lines)


def _load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def run() -> str:
    """Run the webhook benchmark; return its Markdown section."""
    before = _load_average()
    with tempfile.TemporaryDirectory(prefix="rcskit-bench-", dir=ROOT / "bench") as tmp:
        in_process = measure_in_process(Path(tmp))
    section = render(measure_all(), in_process)
    baseline = os.environ.get("RCSKIT_BENCH_BASELINE_SRC")
    if baseline:
        # a library version to compare with (its src folder), side by side in this run
        section += "\n" + compare_in_process(Path(baseline)) + "\n\n"
    return (
        section
        + f"- Load average (1 min) of the machine before / after the run: {before} / "
        + f"{_load_average()} (other work on a shared machine makes rounds differ).\n"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_serve":
        _serve(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) > 2 and sys.argv[1] == "compare":
        print(compare_in_process(Path(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_in_process":
        _in_process_main(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_load":
        url, pid, n, warm, seq, secs = sys.argv[2:8]
        _load(url, int(pid), int(n), int(warm), int(seq), float(secs))
    else:
        print(run())
