"""JSON from outside (webhook bodies, API requests, user files), read within bounds.

Every place that parses JSON it did not write itself goes through :func:`load_json`:

    from rcskit.formats.jsonin import JsonInputError, load_json

    try:
        body = load_json(raw_bytes)
    except JsonInputError as err:
        return 400, err.reason          # a short reason, never a traceback

It refuses, with one short reason each (:class:`JsonInputError`, a ``ValueError``):

* text that is not UTF-8, or not JSON;
* nesting deeper than ``max_depth`` (64 by default: no RCS body comes near it; a deep body is
  what makes recursive code downstream fail);
* numbers that do not fit a 64-bit float (``1e400``, a 5,000-digit integer); integers beyond
  64 bits that do fit are read as floats (orjson's rule);
* lone UTF-16 surrogates (``"\\ud800"``), which no UTF-8 encoder can write back out.

Parsing is done by orjson (C; it rejects bad numbers and surrogates itself); the depth is then
checked iteratively, without recursion, in time proportional to the number of containers.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["DEFAULT_MAX_DEPTH", "JsonInputError", "check_depth", "load_json"]

DEFAULT_MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted by default."""


class JsonInputError(ValueError):
    """JSON input refused; ``reason`` is one short line naming what is wrong."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def check_depth(value: Any, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Raise :class:`JsonInputError` if ``value`` nests dicts and lists deeper than
    ``max_depth`` (a scalar has depth 0, ``[]`` depth 1)."""
    if not isinstance(value, dict | list):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise JsonInputError(f"JSON nested deeper than {max_depth} levels")
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


def load_json(
    data: bytes | bytearray | memoryview | str, *, max_depth: int = DEFAULT_MAX_DEPTH
) -> Any:
    """Parse ``data`` as JSON within the bounds above, or raise :class:`JsonInputError`."""
    if isinstance(data, str):
        try:
            data = data.encode("utf-8")
        except UnicodeEncodeError:
            raise JsonInputError("text contains a lone UTF-16 surrogate") from None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise JsonInputError(_reason(err)) from None
    except RecursionError:  # pragma: no cover - orjson stops at 1024 levels itself
        raise JsonInputError(f"JSON nested deeper than {max_depth} levels") from None
    if isinstance(data, memoryview) or data.count(b"[") + data.count(b"{") > max_depth:
        check_depth(value, max_depth)  # fewer brackets than that cannot nest deeper
    return value


def _reason(err: orjson.JSONDecodeError) -> str:
    message = str(err.msg) if getattr(err, "msg", None) else str(err)
    lowered = message.lower()
    if "recursion" in lowered:
        return "JSON nested too deeply"
    if "infinity" in lowered or ("integer" in lowered and "range" in lowered):
        return f"number out of range ({message})"
    if "utf-8" in lowered or "utf8" in lowered:
        return "body is not UTF-8 text"
    if "surrogate" in lowered:
        return "text contains a lone UTF-16 surrogate"
    position = getattr(err, "pos", None)
    where = f" at character {position}" if isinstance(position, int) else ""
    return f"not JSON: {message}{where}"
