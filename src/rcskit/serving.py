"""Listening sockets and serving an ASGI app on one: the low-level helpers every server of
rcskit shares (the command line, the emulator, the demo).

It imports nothing of rcskit, so the emulator may use it and still stand alone::

    sock = listen("127.0.0.1", 0)           # bind first: a busy port fails before any banner
    print(f"serving on http://{url_host('127.0.0.1')}:{sock.getsockname()[1]}")
    serve_on(app, sock, log_level="warning")
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any, NoReturn

__all__ = [
    "cannot_listen",
    "exit_cannot_listen",
    "listen",
    "listen_or_exit",
    "serve_on",
    "url_host",
]

SERVER_DID_NOT_START = 3
"""Exit status of :func:`serve_on` when the server never started."""


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: any free port). Raises ``OSError``.

    ``SO_REUSEADDR`` is set only on POSIX, where it lets a restarted server take its port
    back from connections in TIME_WAIT; elsewhere it would share a port that is in use.
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url_host(host: str) -> str:
    """``host`` as written in a URL to this machine (a wildcard address becomes 127.0.0.1)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _port_to_try(host: str, port: int) -> int | None:
    """A port free on ``host`` right now: one of the next ten, else any; ``None`` if none."""
    for candidate in [*range(port + 1, min(port + 10, 65535) + 1), 0]:
        try:
            sock = listen(host, candidate)
        except OSError:
            continue
        with sock:
            free: int = sock.getsockname()[1]
        return free
    return None


def cannot_listen(host: str, port: int, err: OSError) -> str:
    """The one-line error of a server that cannot listen on ``host:port``, with a port to try."""
    reason = err.strerror or str(err)
    free = _port_to_try(host, port)
    hint = f"try --port {free}" if free is not None else "check --host"
    return f"error: cannot listen on {_netloc(host, port)} ({reason}); {hint}"


def exit_cannot_listen(host: str, port: int, err: OSError) -> NoReturn:
    """Print :func:`cannot_listen` on standard error and exit with status 1."""
    print(cannot_listen(host, port, err), file=sys.stderr)
    raise SystemExit(1)


def listen_or_exit(host: str, port: int) -> socket.socket:
    """:func:`listen`, or print :func:`cannot_listen` and exit with status 1."""
    try:
        return listen(host, port)
    except OSError as err:
        exit_cannot_listen(host, port, err)


def serve_on(app: Any, sock: socket.socket, **options: Any) -> None:
    """Serve ``app`` with uvicorn on the listening ``sock`` until interrupted (``options``:
    :class:`uvicorn.Config`'s). Exits with status 3 if the server did not start."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **options))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if not server.started:
        sys.exit(SERVER_DID_NOT_START)
