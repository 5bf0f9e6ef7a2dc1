"""Per-recipient messages: ``{column}`` placeholders filled from the CSV row.

A campaign message is read once (neutral rcskit JSON, or a GSMA ``RCSMessage`` / Google
``contentMessage`` body, told apart by :func:`rcskit.formats.detect_format`) and kept as a
:class:`MessageTemplate`. Any text field may hold ``{name}`` placeholders (a name is a letter
or ``_`` then letters, digits, ``_``); other braces are left alone. A template campaign
(``--template CODE``) sends :class:`~rcskit.message.Template` with the row's columns as its
custom parameters::

    template = MessageTemplate.from_json(text, source="msg.json")
    template.check_columns(["phone", "first_name"])        # raises naming the placeholder
    message = template.render({"first_name": "Ada"})      # a Message
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from ..errors import RcsError
from ..formats import detect_format, get_format
from ..message import Message, Template
from .errors import CampaignError

__all__ = [
    "PLACEHOLDER",
    "MessageTemplate",
    "MissingValue",
    "TemplateCampaign",
    "fill",
    "filler",
    "json_with_id",
    "placeholders",
]

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""A ``{name}`` placeholder."""

_NOT_TEXT = frozenset({"kind"})
"""Keys whose string values are never personalised (the model's discriminators)."""


class MissingValue(CampaignError):
    """A row has no value for a placeholder the message uses."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no value for {{{name}}}")


def placeholders(value: Any) -> set[str]:
    """Every placeholder name in the strings of a JSON-like value."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(PLACEHOLDER.findall(value))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in _NOT_TEXT:
                found |= placeholders(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= placeholders(item)
    return found


def fill(value: Any, params: Mapping[str, str]) -> Any:
    """``value`` (a string or JSON-like data) with every placeholder replaced by its value in
    ``params``; raises :class:`MissingValue` for one without a (non-empty) value."""
    if isinstance(value, str):
        if "{" not in value:
            return value

        def one(match: re.Match[str]) -> str:
            found = params.get(match.group(1))
            if found is None or found == "":
                raise MissingValue(match.group(1))
            return found

        return PLACEHOLDER.sub(one, value)
    if isinstance(value, dict):
        return {k: v if k in _NOT_TEXT else fill(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, params) for v in value]
    return value


_NO_ID = ',"message_id":null'
"""How the JSON of a :class:`Message` without an id has it: the key before ``in_reply_to``,
the last field (whose value, a JSON string or ``null``, holds no unescaped quote)."""

_LAST = ',"in_reply_to":'

_BARE_ID = re.compile(r"[A-Za-z0-9_.:-]+")
"""An id whose JSON string is itself in quotes (nothing to escape): deterministic ids."""


def json_with_id(message: Message, text: str, message_id: str) -> str:
    """``message.with_id(message_id).model_dump_json()``, given ``text``, the JSON of
    ``message`` (which has no id): the id written into ``text`` instead of the message
    copied and encoded again. A message whose JSON does not have the expected shape, or an id
    that would need escaping, takes the long way."""
    at = text.rfind(_NO_ID + _LAST)
    if message.message_id is not None or at < 0 or not _BARE_ID.fullmatch(message_id):
        return message.with_id(message_id).model_dump_json()
    return f'{text[:at]},"message_id":"{message_id}"{text[at + len(_NO_ID) :]}'


Filler = Callable[[Mapping[str, str]], Any]
""":func:`fill` of one value, prepared (see :func:`filler`)."""


def filler(value: Any) -> Filler | None:
    """:func:`fill` of ``value`` prepared once for many rows: ``filler(value)(params) ==
    fill(value, params)`` (the same result, the same :class:`MissingValue` for the same
    placeholder), each string split at its placeholders ahead, and what holds no placeholder
    reused as it is instead of being copied; ``None`` when ``value`` has no placeholder (it is
    its own fill)."""
    if isinstance(value, str):
        parts = PLACEHOLDER.split(value) if "{" in value else [value]
        if len(parts) == 1:
            return None
        first, rest = parts[0], list(zip(parts[1::2], parts[2::2], strict=True))

        def text(params: Mapping[str, str]) -> str:
            out = [first]
            for name, after in rest:
                found = params.get(name)
                if found is None or found == "":
                    raise MissingValue(name)
                out.append(found)
                out.append(after)
            return "".join(out)

        return text
    if isinstance(value, dict):
        fills = [(k, v, None if k in _NOT_TEXT else filler(v)) for k, v in value.items()]
        if all(f is None for _, _, f in fills):
            return None
        return lambda params: {k: v if f is None else f(params) for k, v, f in fills}
    if isinstance(value, list):
        items = [(v, filler(v)) for v in value]
        if all(f is None for _, f in items):
            return None
        return lambda params: [v if f is None else f(params) for v, f in items]
    return None


def _line_of(text: str, name: str) -> int | None:
    token = "{" + name + "}"
    for number, line in enumerate(text.splitlines(), 1):
        if token in line:
            return number
    return None


@dataclass(frozen=True)
class MessageTemplate:
    """A campaign message with placeholders: ``base`` is the neutral message as JSON data,
    ``names`` the placeholders it uses, ``source``/``text`` where it was read from (for errors
    naming the line)."""

    base: dict[str, Any]
    names: frozenset[str]
    source: str = "message"
    text: str = ""

    @classmethod
    def from_message(cls, message: Message, *, source: str = "message") -> MessageTemplate:
        """Wrap a message built in Python."""
        base = message.model_dump(mode="json", exclude_none=True)
        return cls(base, frozenset(placeholders(base)), source, json.dumps(base, indent=2))

    @classmethod
    def from_json(cls, text: str, *, source: str = "message") -> MessageTemplate:
        """Read a message file: neutral rcskit JSON (``{"content": ...}``), a GSMA body
        (``RCSMessage``) or a Google body (``contentMessage``). Raises :class:`CampaignError`
        naming the file and what is wrong."""
        try:
            body = json.loads(text)
        except json.JSONDecodeError as err:
            raise CampaignError(
                f"{source}: not JSON: {err.msg} at line {err.lineno} column {err.colno}"
            ) from None
        if not isinstance(body, dict):
            raise CampaignError(f"{source}: a JSON object is required")
        fmt = "neutral" if "content" in body else detect_format(body)
        if fmt is None:
            raise CampaignError(
                f'{source}: cannot tell the format: expected rcskit JSON ({{"content": ...}}), '
                "a GSMA body (RCSMessage) or a Google body (contentMessage)"
            )
        try:
            if fmt == "neutral":
                message = Message.model_validate(body)
            else:
                message = get_format(fmt).decode(body).message
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise CampaignError(f"{source}: {where}: {first['msg']}") from None
        except RcsError as err:
            raise CampaignError(f"{source}: {err}") from None
        if message.message_id is not None:
            raise CampaignError(
                f"{source}: remove the message id ({message.message_id!r}): a campaign gives "
                "every recipient's message its own"
            )
        base = message.model_dump(mode="json", exclude_none=True)
        return cls(base, frozenset(placeholders(base)), source, text)

    def check_columns(self, columns: Iterable[str]) -> None:
        """Raise :class:`CampaignError` for a placeholder no column provides, naming it and
        the line of the message file where it appears."""
        have = set(columns)
        for name in sorted(self.names - have):
            line = _line_of(self.text, name)
            where = f"{self.source} line {line}" if line else self.source
            raise CampaignError(
                f"{where}: placeholder {{{name}}} has no column in the CSV "
                f"(columns: {', '.join(sorted(have)) or 'none'})"
            )

    def render(self, params: Mapping[str, str], *, message_id: str | None = None) -> Message:
        """The message for one row (with ``message_id``, in one validation: no copy). Raises
        :class:`MissingValue` for an empty or absent value and
        :class:`~rcskit.errors.InvalidMessage` when the filled message breaks the model.

        A message without placeholders is validated once: every row gets that message (with
        ``message_id``, a copy of it)."""
        if not self.names:
            plain = self._plain
            return plain if message_id is None else plain.with_id(message_id)
        fill_base = self._fill
        data = self.base if fill_base is None else fill_base(params)
        if message_id is not None:
            data = {**data, "message_id": message_id}
        return _validated(data)

    @cached_property
    def _fill(self) -> Filler | None:
        """:func:`fill` of :attr:`base`, prepared once."""
        return filler(self.base)

    @cached_property
    def _plain(self) -> Message:
        """The message of every row, when it has no placeholders (validated once)."""
        return _validated(self.base)

    @cached_property
    def _plain_json(self) -> str:
        return self._plain.model_dump_json()

    def render_send(
        self, params: Mapping[str, str], message_id: str, *, keep_id: bool
    ) -> tuple[Message, str]:
        """What a campaign sends to one row: the message, with ``message_id`` only when
        ``keep_id`` (a provider that takes client ids), and the JSON the outbox stores (with
        ``message_id``). Without placeholders, and without ``keep_id``, the same message object
        for every row (the client checks its limits once). Raises as :meth:`render`."""
        if not self.names:
            plain = self._plain
            text = json_with_id(plain, self._plain_json, message_id)
            return (plain.with_id(message_id) if keep_id else plain), text
        return _for_send(self.render, params, message_id, keep_id)

    def render_json(self, params: Mapping[str, str]) -> str:
        """:meth:`render`, as the JSON the outbox stores."""
        return self.render(params).model_dump_json()


def _for_send(
    render: Callable[..., Message], params: Mapping[str, str], message_id: str, keep_id: bool
) -> tuple[Message, str]:
    """``render_send`` by way of a ``render(params, message_id=...)``: with ``keep_id``
    rendered with its id (validated with it: no copy), else without it and the id written into
    the outbox JSON (:func:`json_with_id`)."""
    if keep_id:
        message = render(params, message_id=message_id)
        return message, message.model_dump_json()
    message = render(params)
    return message, json_with_id(message, message.model_dump_json(), message_id)


def _validated(data: dict[str, Any]) -> Message:
    """``data`` as a :class:`Message`; :class:`~rcskit.errors.InvalidMessage` naming each
    field that breaks the model.

    Built as ``Message(**data)``: ``Message.model_validate(data)`` calls that same
    ``__init__`` (the model has its own), inside one more pass of pydantic that runs the
    model's checks again and wraps a refusal in a second error (``": Value error, invalid
    message: ..."``)."""
    return Message(**data)


@dataclass(frozen=True)
class TemplateCampaign:
    """A provider template: every recipient gets ``Template(code, params)``, the params being
    the row's columns (all but the phone column, or only ``columns`` when given); empty
    values are left out."""

    code: str
    phone_column: str
    columns: tuple[str, ...] | None = None
    names: frozenset[str] = frozenset()

    def check_columns(self, columns: Iterable[str]) -> None:
        """Raise :class:`CampaignError` for a parameter column the CSV lacks."""
        have = set(columns)
        for name in self.columns or ():
            if name not in have:
                raise CampaignError(f"--param-columns names {name!r}, which the CSV lacks")

    def params_of(self, row: Mapping[str, str]) -> dict[str, str]:
        """The custom parameters of one row."""
        wanted = self.columns if self.columns is not None else row.keys()
        return {
            k: row[k] for k in wanted if k != self.phone_column and row.get(k) not in (None, "")
        }

    def render(self, params: Mapping[str, str], *, message_id: str | None = None) -> Message:
        """The template message for one row (with ``message_id``)."""
        return Message(Template(self.code, self.params_of(params)), message_id=message_id)

    def render_send(
        self, params: Mapping[str, str], message_id: str, *, keep_id: bool
    ) -> tuple[Message, str]:
        """What a campaign sends to one row: the message (with ``message_id`` only when
        ``keep_id``) and the JSON the outbox stores (with ``message_id``); see
        :meth:`MessageTemplate.render_send`."""
        return _for_send(self.render, params, message_id, keep_id)

    def render_json(self, params: Mapping[str, str]) -> str:
        """:meth:`render`, as the JSON the outbox stores."""
        return self.render(params).model_dump_json()
