"""A path-aware reader for decoding wire JSON: collects every problem, then raises once."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ..errors import InvalidMessage, Violation

__all__ = ["WireReader", "in_json_terms"]

_M = TypeVar("_M")


def in_json_terms(
    err: InvalidMessage, path: str, fields: Mapping[str, str] | None = None
) -> list[Violation]:
    """The violations of a model constructor's error, placed at JSON ``path``.

    A constructor names ``Model.field``; ``fields`` maps a neutral field to its JSON member
    under ``path`` (``{"content_description": "contentDescription"}``; ``""`` for ``path``
    itself). A field without a mapping is reported at ``path``, its neutral name in the rule.
    """
    out = []
    for v in err.violations:
        rest = v.path.split(".", 1)[1] if "." in v.path else ""
        field = rest.split(".", 1)[0].split("[", 1)[0]
        wire = fields.get(field) if fields and field else None
        if wire is not None:
            out.append(Violation(_join(path, wire) if wire else path, v.value, v.limit))
        else:
            out.append(
                Violation(path or "(body)", v.value, f"{rest}: {v.limit}" if rest else v.limit)
            )
    return out


class WireReader:
    """Reads typed values out of decoded JSON, recording each problem with its JSON path.

    Decoders call the typed getters, then :meth:`raise_if_problems` once, so a user sees every
    unknown field and wrong type of a message in one error instead of the first one only.
    """

    def __init__(self) -> None:
        self.problems: list[Violation] = []

    def problem(self, path: str, value: Any, rule: str) -> None:
        """Record one problem."""
        self.problems.append(Violation(path, value, rule))

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        """``value`` as a JSON object, or record a problem and return an empty one."""
        if isinstance(value, Mapping):
            return value
        self.problem(path, value, "must be a JSON object")
        return {}

    def array(self, value: Any, path: str) -> list[Any]:
        """``value`` as a JSON array, or record a problem and return an empty list."""
        if isinstance(value, list):
            return value
        self.problem(path, value, "must be a JSON array")
        return []

    def only(self, d: Mapping[str, Any], path: str, allowed: Iterable[str]) -> None:
        """Record every key of ``d`` not in ``allowed`` as an unknown field."""
        allowed_set = allowed if isinstance(allowed, frozenset | set) else frozenset(allowed)
        for key in d:
            if key not in allowed_set:
                self.problem(_join(path, key), d[key], "unknown field for this format")

    def str_(self, d: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
        """An optional (or required) string member."""
        value = d.get(key)
        if value is None:
            if required:
                self.problem(_join(path, key), None, "required field is missing")
            return None
        if not isinstance(value, str):
            self.problem(_join(path, key), value, "must be a string")
            return None
        return value

    def int_(self, d: Mapping[str, Any], key: str, path: str) -> Any:
        """An optional integer member (a JSON number without fraction)."""
        value = d.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_join(path, key), value, "must be an integer")
            return None
        return value

    def num(self, d: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
        """An optional (or required) number member."""
        value = d.get(key)
        if value is None:
            if required:
                self.problem(_join(path, key), None, "required field is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(_join(path, key), value, "must be a number")
            return None
        return value

    def bool_(self, d: Mapping[str, Any], key: str, path: str) -> Any:
        """An optional boolean member."""
        value = d.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(_join(path, key), value, "must be true or false")
            return None
        return value

    def enum(self, d: Mapping[str, Any], key: str, path: str, mapping: Mapping[str, Any]) -> Any:
        """An optional member whose wire value is a key of ``mapping``; returns the mapped value."""
        value = d.get(key)
        if value is None:
            return None
        if value not in mapping:
            self.problem(_join(path, key), value, "must be one of " + ", ".join(mapping))
            return None
        return mapping[value]

    def build(
        self,
        cls: Callable[..., _M],
        path: str,
        fields: Mapping[str, str] | None = None,
        /,
        *args: Any,
        **kw: Any,
    ) -> _M | None:
        """``cls(*args, **kw)``, or ``None`` with its complaints recorded at JSON paths."""
        try:
            return cls(*args, **kw)
        except InvalidMessage as err:
            self.problems.extend(in_json_terms(err, path, fields))
            return None

    def raise_if_problems(self) -> None:
        """Raise :class:`InvalidMessage` with every recorded problem, if there is any."""
        if self.problems:
            raise InvalidMessage(self.problems)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
