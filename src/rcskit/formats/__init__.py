"""Wire formats: the GSMA MaaP ``RCSMessage`` body and the Google RBM ``contentMessage`` body.

Each format module offers ``encode(message, ...) -> dict``, ``decode(body) -> Envelope`` and
``wire_path(message, path)``; :func:`in_wire_terms` names limit violations by JSON path.
Conversion between formats always goes through the neutral model in ``rcskit.message``
(:func:`rcskit.formats.convert.convert_body` for a whole body, re-checked in the target format).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from ..errors import Violation
from ..message import Message

__all__ = ["detect_format", "get_format", "in_wire_terms"]

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
