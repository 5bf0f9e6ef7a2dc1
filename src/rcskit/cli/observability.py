"""The observability options of the long-running commands: ``--log-format`` and ``--metrics-port``.

``rcskit run``, ``rcskit worker``, ``rcskit campaign run``, ``rcskit campaign webhook``,
``rcskit emulator``, ``rcskit demo`` and ``rcskit tail`` take ``--log-format text|json``; the
first three also take ``--metrics-port`` (each process its own port: ``GET /metrics`` in
Prometheus text format). With JSON, every line the command writes on stderr is one JSON object
(its notes through :func:`announce` and :func:`log_event`, its errors through
:func:`fail_line`); standard output keeps what it prints. Light at import (typer only): the
servers load when a command runs.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from typing import Annotated, Any

import typer

__all__ = [
    "LogFormat",
    "LogFormatOption",
    "MetricsPortOption",
    "announce",
    "fail_line",
    "json_notes",
    "log_event",
    "start_observability",
    "uvicorn_log_options",
]


QUIET_LOGGERS = ("alembic",)
"""Libraries whose records below WARNING the commands leave out (Alembic says "Context impl
SQLiteImpl." each time a SQLite store is opened and migrated)."""


class LogFormat(StrEnum):
    """How the long-running commands write their logs."""

    text = "text"
    json = "json"


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        "--log-format",
        envvar="RCSKIT_LOG_FORMAT",
        help="Logs as text lines or one JSON object per line (level, event, provider, campaign, "
        "trace_id); phone numbers are masked either way.",
        case_sensitive=False,
    ),
]

MetricsPortOption = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        min=0,
        max=65535,
        envvar="RCSKIT_METRICS_PORT",
        help="Serve GET /metrics (Prometheus text) on this port, one port per process "
        "(0: any free port; needs `pip install 'rcskit[metrics]'`).",
        show_default=False,
    ),
]


def start_observability(
    log_format: LogFormat | str,
    metrics_port: int | None = None,
    *,
    level: str | int | None = None,
    show_numbers: bool = False,
    metrics_host: str | None = None,
) -> Any:
    """Configure the logs and, with ``metrics_port``, serve ``/metrics``; return the exposition.

    JSON lines default to INFO; text installs a handler only when ``level`` is given (else
    Python's default applies: warnings and errors on stderr).

    ``/metrics`` listens on ``metrics_host``, else ``RCSKIT_METRICS_HOST``, else 127.0.0.1 (set
    ``RCSKIT_METRICS_HOST=0.0.0.0`` where Prometheus scrapes from another host). Exits with a
    clear message when ``/metrics`` is asked for without the ``rcskit[metrics]`` extra, or when
    the port is taken.
    """
    from ..observability.logs import configure_logging

    json_lines = str(log_format) == "json"
    if json_lines or level is not None:  # text with no level: Python's default, as before
        level = level or "INFO"
        level = level.upper() if isinstance(level, str) else level
        configure_logging(
            "json" if json_lines else "text", level=level, mask_phones=not show_numbers
        )
        for name in QUIET_LOGGERS:  # their INFO lines say nothing to an operator
            quiet = logging.getLogger(name)
            if quiet.level == logging.NOTSET:
                quiet.setLevel(logging.WARNING)
    if metrics_port is None:
        return None
    from ..observability import LIBRARY, MetricsUnavailable, PrometheusExposition

    try:
        exposition = PrometheusExposition([LIBRARY])
    except MetricsUnavailable as err:
        fail_line(f"--metrics-port: {err}")
        raise typer.Exit(2) from None
    host = metrics_host or os.environ.get("RCSKIT_METRICS_HOST") or "127.0.0.1"
    try:
        bound = exposition.serve(metrics_port, host)
    except OSError as err:
        fail_line(f"--metrics-port {metrics_port}: cannot listen ({err})")
        raise typer.Exit(1) from None
    url = f"http://{host}:{bound}/metrics"
    announce(f"metrics on {url}", event="metrics_serving", url=url)
    return exposition


def json_notes() -> bool:
    """Whether the command's notes on stderr are JSON lines (``--log-format json`` configured
    by :func:`start_observability` for this stderr)."""
    from ..observability.logs import json_lines_on_stderr

    return json_lines_on_stderr()


def log_event(event: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """One JSON line from the ``rcskit.cli`` logger: ``event`` its short name, ``message`` the
    text, ``fields`` (``campaign=``, ``provider=``, counts) kept as they are; phone numbers are
    masked by the formatter. Field names must not be :class:`logging.LogRecord` attributes."""
    logging.getLogger("rcskit.cli").log(level, message, extra={"event": event, **fields})


def announce(
    text: str, *, level: int = logging.INFO, event: str | None = None, **fields: Any
) -> None:
    """A serving command's note on stderr: a log record when JSON lines are on (stderr then
    carries JSON objects only; ``event`` names it, ``fields`` go with it), else the plain line
    as before."""
    if json_notes():
        log_event(event or text, text, level=level, **fields)
    else:
        typer.echo(text, err=True)


def fail_line(message: str) -> None:
    """``error: message`` on stderr, or a JSON line (event ``error``) when JSON lines are on."""
    from .output import one_line

    if json_notes():
        log_event("error", one_line(message), level=logging.ERROR)
    else:
        typer.echo(f"error: {message}", err=True)


def uvicorn_log_options(log_format: LogFormat | str) -> dict[str, Any]:
    """uvicorn options for ``log_format``: with JSON, uvicorn keeps off the logging config so its
    records reach the JSON handler."""
    return {"log_config": None} if str(log_format) == "json" else {}
