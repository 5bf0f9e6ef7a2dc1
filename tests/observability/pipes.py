"""Reading a child process's output in tests: its lines collected in a thread."""

from __future__ import annotations

import json
import re
import threading
import time

__all__ = ["Lines"]


class Lines:
    """Collects a pipe's lines in a thread, so the test can wait for one."""

    def __init__(self, pipe: object) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe: object) -> None:
        for line in pipe:  # type: ignore[attr-defined]
            self.lines.append(line.rstrip("\n"))

    def join(self) -> None:
        self._thread.join(timeout=10)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            time.sleep(0.05)
        raise AssertionError(f"no line matching {pattern!r} in {self.lines}")

    def records(self) -> list[dict[str, object]]:
        """Every line as a JSON object (a line that is not one fails the test)."""
        out = []
        for line in self.lines:
            try:
                record = json.loads(line)
            except ValueError:
                raise AssertionError(f"not a JSON line: {line!r} (all: {self.lines})") from None
            assert isinstance(record, dict), line
            out.append(record)
        return out
