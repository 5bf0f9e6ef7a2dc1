"""Wire formats: the GSMA MaaP ``RCSMessage`` body and the Google RBM ``contentMessage`` body.

Each format module offers ``encode(message, ...) -> dict``, ``decode(body) -> Envelope`` and
``wire_path(message, path)``; :func:`in_wire_terms` names limit violations by JSON path.
Conversion between formats always goes through the neutral model in ``rcskit.message``
(:func:`rcskit.formats.convert.convert_body` for a whole body, re-checked in the target format).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import Violation
from ..message import Message

if TYPE_CHECKING:
    from ..limits import Profile

__all__ = ["body_violations", "detect_format", "get_format", "in_wire_terms"]

_GSMA_KEYS = frozenset(
    {
        "RCSMessage",
        "textMessage",
        "fileMessage",
        "audioMessage",
        "geolocationPushMessage",
        "richcardMessage",
        "templateMessage",
        "isTyping",
    }
)
_GOOGLE_KEYS = frozenset(
    {"contentMessage", "text", "richCard", "contentInfo", "fileName", "uploadedRbmFile"}
)


def detect_format(body: Any) -> str | None:
    """``"gsma"`` or ``"google"`` from the body's top-level keys, or ``None`` if neither fits."""
    if not isinstance(body, Mapping):
        return None
    keys = set(body)
    if keys & _GSMA_KEYS:
        return "gsma"
    if keys & _GOOGLE_KEYS:
        return "google"
    return None


def get_format(name: str) -> ModuleType:
    """The format module for ``"gsma"`` or ``"google"``."""
    if name == "gsma":
        from . import gsma

        return gsma
    if name == "google":
        from . import google

        return google
    raise ValueError(f"unknown format {name!r}: use gsma or google")


def in_wire_terms(fmt: str, message: Message, violations: Sequence[Violation]) -> list[Violation]:
    """Re-express violations that carry a neutral ``path_tuple`` with ``fmt``'s JSON paths."""
    module = get_format(fmt)
    out: list[Violation] = []
    for v in violations:
        tup = getattr(v, "path_tuple", None)
        if tup is None:
            out.append(v)
        else:
            out.append(Violation(module.wire_path(message, tup), v.value, v.limit))
    return out


def body_violations(
    body: Any,
    fmt: str | None = None,
    profile: Profile | str | None = None,
    *,
    now: datetime | None = None,
    encoded_size: int | None = None,
) -> list[Violation]:
    """Every reason a platform would refuse the message ``body``, each at its JSON path.

    ``fmt`` is ``"gsma"`` or ``"google"`` (``None``: detected from the keys); ``profile`` the
    limits profile (default: the format's own). The body is decoded strictly (unknown members,
    wrong types, lone surrogates) and, when it decodes, checked with
    :func:`rcskit.limits.check` under the rules of its own wire format. ``[]`` means valid.

    >>> body_violations({"RCSMessage": {"textMessage": "hello"}})
    []
    """
    from ..errors import InvalidMessage
    from ..limits import check
    from ..limits import profile as limits_profile

    name = fmt if fmt is not None else detect_format(body)
    if name is None:
        return [
            Violation("(body)", body, "not a GSMA (RCSMessage) or Google (contentMessage) body")
        ]
    try:
        message = get_format(name).decode(body).message
    except InvalidMessage as err:
        return list(err.violations)
    found = check(
        message,
        limits_profile(profile if profile is not None else name),
        now=now,
        encoded_size=encoded_size,
        wire_format=name,
    )
    return in_wire_terms(name, message, found)
