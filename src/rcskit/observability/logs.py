"""Structured logs: one JSON object per line, with trace ids and masked phone numbers.

``configure_logging("json")`` installs :class:`JsonLogFormatter` on the root logger's stderr
handler. Each line carries ``time``, ``level``, ``logger``, ``event``, ``message`` (the text),
and, when the record or the current context has them, ``provider``, ``campaign`` and
``trace_id``; other ``extra=`` fields are kept. ``event`` is the record's short name when it has
one (``extra={"event": "campaign_finished"}``), else the text again. Phone numbers (E.164 or
long digit runs) are masked to their last two digits unless ``mask_phones=False``.

    log.info("sent", extra={"provider": "dotgo", "campaign": "spring"})
    {"time": "2026-12-06T07:20:00.123Z", "level": "info", "logger": "rcskit.client",
     "event": "sent", "message": "sent", "provider": "dotgo", "campaign": "spring",
     "trace_id": "4bf9..."}
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from .tracing import current_trace_id

LogFormat = Literal["text", "json"]

#: ``+`` then 8-15 digits (E.164), or a bare run of 10-15 digits (a number without its ``+``).
_PHONE = re.compile(r"(?<![\w+])(\+\d{8,15}|\d{10,15})(?!\w)")

# record attributes that are not fields of the line (uvicorn's ``color_message`` is its message
# again, with terminal colour codes)
_RESERVED = frozenset(vars(logging.makeLogRecord({})).keys()) | {
    "message",
    "asctime",
    "color_message",
}

#: The loggers of uvicorn (the server under ``rcskit run``, ``demo``, ``emulator``, ...).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")

_CONTEXT: ContextVar[Mapping[str, str] | None] = ContextVar("rcskit_log_context", default=None)
_JSON_LINES = [False]  # whether a JsonLogFormatter exists: only it reads the log context
_NOTHING = nullcontext()


@contextmanager
def _bound(fields: Mapping[str, str]) -> Iterator[None]:
    token = _CONTEXT.set({**(_CONTEXT.get() or {}), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def json_lines_enabled() -> bool:
    """Whether a :class:`JsonLogFormatter` exists in this process (the log context matters)."""
    return _JSON_LINES[0]


def log_context(**fields: str) -> AbstractContextManager[None]:
    """Add ``fields`` (``provider=``, ``campaign=``) to every JSON log line written inside.

    Tasks started inside inherit them (``contextvars``). Free while no JSON formatter exists::

        with log_context(campaign="spring", provider="dotgo"):
            await runner.run()
    """
    if not _JSON_LINES[0]:
        return _NOTHING
    return _bound(fields)


def mask_phone_numbers(text: str) -> str:
    """Replace each phone number in ``text`` by a mask keeping its last two digits.

    >>> mask_phone_numbers("to +33612345678 ok")
    'to +*********78 ok'
    """

    def mask(match: re.Match[str]) -> str:
        value = match.group(0)
        head = "+" if value.startswith("+") else ""
        digits = value.lstrip("+")
        return head + "*" * (len(digits) - 2) + digits[-2:]

    return _PHONE.sub(mask, text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_phone_numbers(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


class JsonLogFormatter(logging.Formatter):
    """Formats each record as one JSON object on one line."""

    def __init__(self, *, mask_phones: bool = True) -> None:
        """``mask_phones=False`` leaves phone numbers readable (for local debugging only)."""
        super().__init__()
        self.mask_phones = mask_phones
        _JSON_LINES[0] = True

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single-line JSON object."""
        stamp = datetime.fromtimestamp(record.created, UTC)
        text = record.getMessage()
        out: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": text,  # replaced by the record's own ``event`` name, if it has one
            "message": text,
        }
        for key, value in (_CONTEXT.get() or {}).items():
            out[key] = value
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                out[key] = value
        trace_id = current_trace_id()
        if trace_id and "trace_id" not in out:
            out["trace_id"] = trace_id
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        if self.mask_phones:
            out = _masked(out)
        return json.dumps(out, default=str, ensure_ascii=False)


class PhoneMaskingFormatter(logging.Formatter):
    """The plain-text formatter, with phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        """The usual text line, phone numbers masked."""
        return mask_phone_numbers(super().format(record))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the ``sys.stderr`` of its creation while it is still ``sys.stderr``: a command
    run in process (a test's CLI runner swaps stderr, then closes it) leaves a handler that
    falls silent instead of writing into a closed stream or into the next command's output."""

    def __init__(self) -> None:
        self._origin = sys.stderr
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return self._origin

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        return None

    def emit(self, record: logging.LogRecord) -> None:
        """Write ``record`` if stderr is still the stream this handler was made for."""
        if sys.stderr is self._origin:
            super().emit(record)


def configure_logging(
    log_format: LogFormat = "text",
    *,
    level: int | str = logging.INFO,
    mask_phones: bool = True,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as text or JSON lines; returns the handler.

    Replaces handlers this function installed before (calling it twice does not double lines).
    ``level`` filters this handler; the root logger is lowered to it when needed, never raised.
    """
    if log_format not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', got {log_format!r}")
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.set_name("rcskit")
    text_layout = "%(asctime)s %(levelname)s %(name)s %(message)s"
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter(mask_phones=mask_phones))
    elif mask_phones:
        handler.setFormatter(PhoneMaskingFormatter(text_layout))
    else:
        handler.setFormatter(logging.Formatter(text_layout))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "rcskit"]:
        root.removeHandler(old)
    handler.setLevel(level)
    root.addHandler(handler)
    if root.getEffectiveLevel() > handler.level:  # let the records through; never hide others'
        root.setLevel(handler.level)
    if log_format == "json":
        # uvicorn's own lines too: its loggers lose the text handlers a uvicorn default config
        # may have given them and pass their records up to this handler (a uvicorn server
        # then must not configure logging again: see uvicorn_log_config)
        for name in UVICORN_LOGGERS:
            server_log = logging.getLogger(name)
            for old in list(server_log.handlers):
                server_log.removeHandler(old)
            server_log.propagate = True
    return handler


def json_logging_installed() -> bool:
    """Whether :func:`configure_logging` installed JSON lines on the root logger."""
    return any(
        h.get_name() == "rcskit" and isinstance(h.formatter, JsonLogFormatter)
        for h in logging.getLogger().handlers
    )


def json_lines_on_stderr() -> bool:
    """Whether JSON lines from :func:`configure_logging` reach the current ``sys.stderr``: a
    command's notes then go through logging (stderr carries JSON objects only). A handler left
    by an earlier command run in process, on a stderr since replaced, does not count."""
    for handler in logging.getLogger().handlers:
        if handler.get_name() != "rcskit" or not isinstance(handler.formatter, JsonLogFormatter):
            continue
        if not isinstance(handler, _StderrHandler) or handler.stream is sys.stderr:
            return True
    return False


def uvicorn_log_config() -> dict[str, Any]:
    """The logging options of a uvicorn server in this process: with JSON lines installed,
    ``{"log_config": None}`` (uvicorn leaves logging alone; its records reach the JSON handler,
    see :func:`configure_logging`), else nothing (uvicorn's own text lines)."""
    return {"log_config": None} if json_logging_installed() else {}
