"""Dotgo templates: read ``customParams`` and fill a registered template's placeholders."""

from __future__ import annotations

import json
import re
from typing import Any

from ....formats.jsonin import JsonInputError, load_json
from ...config import TemplateConfig

__all__ = ["TemplateParamsError", "custom_params", "missing_params", "render_template"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateParamsError(ValueError):
    """``customParams`` is not a JSON object (or a string holding one)."""


def custom_params(raw: Any) -> dict[str, Any]:
    """``customParams`` as a dict: the wire sends a JSON string (``"{\\"name\\":\\"Ada\\"}"``).

    An object is accepted as is; absent means no parameters.
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            value = load_json(raw)
        except JsonInputError as exc:
            raise TemplateParamsError(f"customParams is not valid JSON ({exc.reason})") from None
        if isinstance(value, dict):
            return value
    raise TemplateParamsError("customParams must be a JSON object of parameter names to values")


def missing_params(template: TemplateConfig, params: dict[str, Any]) -> list[str]:
    """Required parameters absent from ``params``, in declaration order."""
    return [name for name in template.params if name not in params]


def _fill(value: Any, params: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: params.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: _fill(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, params) for v in value]
    return value


def render_template(template: TemplateConfig, params: dict[str, Any]) -> dict[str, Any]:
    """The template's GSMA ``RCSMessage`` content with every ``{name}`` replaced by its value."""
    values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    filled: dict[str, Any] = _fill(template.content, values)
    return filled
