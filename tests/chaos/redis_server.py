"""A private ``redis-server`` on a free loopback port, started and stopped by a test.

Never the shared 6379: a test that stops or restarts Redis must own it. Persistence is off
(``--save "" --appendonly no``), so a restart loses every key, as a crashed Redis would.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def redis_server_or_skip() -> RedisServer:
    """A :class:`RedisServer` (not started) for a test; the test is skipped when the binary is
    missing, or fails when ``RCSKIT_REQUIRE_SERVICES`` is set (CI)."""
    import pytest

    if shutil.which("redis-server") is None:
        message = "redis-server is not installed"
        if os.environ.get("RCSKIT_REQUIRE_SERVICES"):
            pytest.fail(message + " (RCSKIT_REQUIRE_SERVICES is set)")
        pytest.skip(message + " (RCSKIT_REQUIRE_SERVICES=1 makes this a failure)")
    return RedisServer()


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port`` in a process of its own."""

    def __init__(self, port: int | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = Path(tempfile.mkdtemp(prefix="rcskit-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "yes",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited at start")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not answer in {timeout} s")

    def stop(self) -> None:
        """Kill the server (SIGKILL: state is lost, as in a crash)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        """Kill and start again on the same port, with no state."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove the work folder."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
