"""Convert a message body between the GSMA and Google formats, never emitting an invalid one.

::

    from rcskit.formats.convert import convert_body

    dropped: list[str] = []
    google_body = convert_body(gsma_body, "google", dropped=dropped)
    # dropped: the JSON paths, in gsma_body, of the MIME types and sizes Google recomputes

The body goes through the neutral model (decode, then encode). The result is decoded again and
checked against the target format's own rules (:func:`rcskit.limits.check` with the
target's profile, expiry times aside); whatever the target would refuse raises
:class:`~rcskit.errors.InvalidMessage` naming the fields in the source body, so a conversion
that succeeds always gives a body ``rcskit validate`` accepts. A Google rich card with a
``thumbnailUrl`` cannot become a GSMA card, for instance: GSMA wants the thumbnail's type
and size, which the Google body does not carry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..errors import InvalidMessage, Violation
from ..limits import LimitViolation, check, profile
from . import detect_format, get_format

__all__ = ["convert_body"]

_FORMATS = ("gsma", "google")
# Expiry is a property of the moment of sending, not of the format: checked as of the epoch.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def convert_body(
    body: Mapping[str, Any],
    to: str,
    *,
    strict: bool = False,
    drop_metadata: bool = False,
    dropped: list[str] | None = None,
) -> dict[str, Any]:
    """``body`` (a GSMA or Google message body) in the ``to`` format (``"gsma"``/``"google"``).

    To Google, the MIME types and sizes Google recomputes are dropped by default and each
    one's JSON path in ``body`` is appended to ``dropped``; ``strict=True`` refuses them
    instead (:class:`~rcskit.errors.UnsupportedFeature`), ``drop_metadata=True`` also drops
    file names and per-card carousel layout. See :func:`rcskit.formats.google.encode`.

    Raises :class:`~rcskit.errors.InvalidMessage` (a body of neither format, a body that does
    not decode, or a result the target format would refuse) and
    :class:`~rcskit.errors.UnsupportedFeature` (something the target cannot express).
    """
    if to not in _FORMATS:
        raise ValueError(f"to must be gsma or google, not {to!r}")
    source = detect_format(body)
    if source is None:
        raise InvalidMessage(
            [Violation("(body)", body, "not a GSMA (RCSMessage) or Google (contentMessage) body")]
        )
    source_format = get_format(source)
    envelope = source_format.decode(body)
    message = envelope.message
    neutral_dropped: list[str] = []
    if to == "google":
        from . import google

        out = google.encode(
            message, strict=strict, drop_metadata=drop_metadata, dropped=neutral_dropped
        )
    else:
        from . import gsma

        out = gsma.encode(message, envelope.to)
    target = get_format(to)
    found = check(target.decode(out).message, profile(to), now=_EPOCH, wire_format=to)
    if found:
        raise InvalidMessage(
            [_in_source_terms(source_format, source, to, message, v) for v in found]
        )
    if dropped is not None:
        dropped.extend(source_format.wire_path(message, _parse(p)) for p in neutral_dropped)
    return out


def _in_source_terms(
    source_format: Any, source: str, to: str, message: Any, v: LimitViolation
) -> Violation:
    """A violation of the converted message, named in the user's own (source) body."""
    if v.rule == "thumbnail_metadata":  # missing in the source: name the thumbnail it goes with
        where = source_format.wire_path(message, (*v.path_tuple[:-1], "thumbnail_url"))
        field = v.path_tuple[-1]
        rule = f"the {to} format requires {field} with a thumbnail, and a {source} body has none"
        return Violation(where, v.value, rule)
    where = source_format.wire_path(message, v.path_tuple)
    return Violation(where, v.value, f"{v.limit} (a rule of the {to} format)")


def _parse(path: str) -> tuple[str | int, ...]:
    """``"content.cards[0].media.size"`` -> ``("content", "cards", 0, "media", "size")``."""
    return tuple(int(index) if index else name for name, index in _PART.findall(path))
