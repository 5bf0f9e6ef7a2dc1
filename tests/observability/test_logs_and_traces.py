"""JSON log lines, phone masking, trace ids and traceparent propagation."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider

from rcskit.observability.logs import configure_logging, mask_phone_numbers
from rcskit.observability.tracing import current_trace_id, inject_traceparent


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = configure_logging("json", stream=out)
    yield out
    logging.getLogger().removeHandler(handler)


def test_one_json_object_per_line_with_masked_numbers(stream: io.StringIO) -> None:
    log = logging.getLogger("rcskit.test")
    log.info("sent to %s", "+33612345678", extra={"provider": "dotgo", "campaign": "spring"})
    log.warning("retry\nnext line", extra={"recipient": "447911123456"})
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "info" and first["logger"] == "rcskit.test"
    assert first["event"] == "sent to +*********78"
    assert first["provider"] == "dotgo" and first["campaign"] == "spring"
    assert "trace_id" not in first
    assert second["level"] == "warning" and second["event"] == "retry\nnext line"
    assert second["recipient"] == "**********56"
    assert "33612345678" not in stream.getvalue()


def test_numbers_stay_readable_when_masking_is_off() -> None:
    out = io.StringIO()
    handler = configure_logging("json", stream=out, mask_phones=False)
    try:
        logging.getLogger("rcskit.test").info("to +33612345678")
    finally:
        logging.getLogger().removeHandler(handler)
    assert json.loads(out.getvalue())["event"] == "to +33612345678"


def test_text_format_masks_too_and_bad_formats_are_refused() -> None:
    out = io.StringIO()
    handler = configure_logging("text", stream=out)
    try:
        logging.getLogger("rcskit.test").info("to +33612345678")
    finally:
        logging.getLogger().removeHandler(handler)
    assert "+*********78" in out.getvalue() and "33612345678" not in out.getvalue()
    with pytest.raises(ValueError, match="log format must be 'text' or 'json'"):
        configure_logging("xml")  # type: ignore[arg-type]


def test_masking_leaves_short_numbers_alone() -> None:
    assert mask_phone_numbers("port 8080, batch 12, +1 555") == "port 8080, batch 12, +1 555"
    assert mask_phone_numbers("a +14155550123 b") == "a +*********23 b"


def test_trace_id_in_logs_and_traceparent_on_requests(stream: io.StringIO) -> None:
    headers: dict[str, str] = {}
    inject_traceparent(headers)
    assert headers == {} and current_trace_id() is None
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("send") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        logging.getLogger("rcskit.test").info("inside")
        inject_traceparent(headers)
    assert json.loads(stream.getvalue())["trace_id"] == trace_id
    version, header_trace, _span, flags = headers["traceparent"].split("-")
    assert (version, header_trace) == ("00", trace_id)
    assert int(flags, 16) & 1  # sampled


async def test_log_context_reaches_lines_and_tasks_started_inside(stream: io.StringIO) -> None:
    import asyncio

    from rcskit.observability.logs import log_context

    log = logging.getLogger("rcskit.test")

    async def child() -> None:
        log.info("from a task")

    with log_context(campaign="spring", provider="dotgo"):
        log.info("inside")
        await asyncio.create_task(child())
        with log_context(provider="maap"):
            log.info("nested", extra={"campaign": "autumn"})
    log.info("outside")
    inside, task, nested, outside = (json.loads(ln) for ln in stream.getvalue().splitlines())
    assert (inside["campaign"], inside["provider"]) == ("spring", "dotgo")
    assert (task["event"], task["campaign"], task["provider"]) == ("from a task", "spring", "dotgo")
    assert (nested["campaign"], nested["provider"]) == ("autumn", "maap")
    assert "campaign" not in outside and "provider" not in outside


def test_json_lines_take_over_uvicorn_loggers_configured_as_text() -> None:
    from rcskit.observability.logs import json_logging_installed, uvicorn_log_config

    server_log = logging.getLogger("uvicorn.error")
    text = logging.StreamHandler(io.StringIO())
    server_log.addHandler(text)  # what uvicorn's default log config leaves behind
    server_log.propagate = False
    out = io.StringIO()
    handler = configure_logging("json", stream=out)
    try:
        assert json_logging_installed() and uvicorn_log_config() == {"log_config": None}
        server_log.warning(
            "Uvicorn running on %s", "http://127.0.0.1:1", extra={"color_message": "\x1b[1m"}
        )
    finally:
        logging.getLogger().removeHandler(handler)
    assert text not in server_log.handlers and server_log.propagate
    (line,) = out.getvalue().splitlines()
    record = json.loads(line)
    assert (
        record["logger"] == "uvicorn.error"
        and record["event"] == "Uvicorn running on http://127.0.0.1:1"
    )
    assert "color_message" not in record
    assert not json_logging_installed() and uvicorn_log_config() == {}
