"""The simulated phone population: explicit phones plus generated number ranges.

A range of 100 000 numbers costs one config object: a number's profile (RCS or not, online or
not) is computed on demand from a deterministic hash, and a :class:`Phone` object is kept only
for explicit phones and for generated numbers the admin API changed (``materialize``).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..config import (
    DEFAULT_GOOGLE_FEATURES,
    DEFAULT_GSMA_FEATURES,
    E164,
    EmulatorConfig,
    MaapErrorConfig,
    PhoneConfig,
    PhoneRangeConfig,
)

__all__ = ["Phone", "PhoneDirectory", "is_e164"]


def is_e164(number: object) -> bool:
    """True when ``number`` is a string in canonical E.164 form (``+`` then 7-15 digits)."""
    return isinstance(number, str) and E164.match(number) is not None


@dataclass(slots=True)
class Phone:
    """One simulated phone's profile and runtime state (online, opt-outs)."""

    number: str
    rcs: bool = True
    online: bool = True
    features: tuple[str, ...] = ()
    google_features: tuple[str, ...] = ()
    delivered_delay_s: float = 0.0
    displayed_delay_s: float | None = None
    opted_out: set[str] = field(default_factory=set)
    carrier_id: str | None = None
    maap_error: MaapErrorConfig | None = None
    generated: bool = False

    def opted_out_of(self, bot_id: str) -> bool:
        """Whether the user blocked this bot (or all bots with ``"*"``)."""
        return "*" in self.opted_out or bot_id in self.opted_out

    def to_json(self) -> dict[str, Any]:
        """The phone as the admin API shows it."""
        return {
            "number": self.number,
            "rcs": self.rcs,
            "online": self.online,
            "features": list(self.features),
            "google_features": list(self.google_features),
            "delivered_delay_s": self.delivered_delay_s,
            "displayed_delay_s": self.displayed_delay_s,
            "opted_out": sorted(self.opted_out),
            "carrier_id": self.carrier_id,
            "maap_error": self.maap_error.model_dump() if self.maap_error else None,
            "generated": self.generated,
        }


def _unit(seed: str, number: str, what: str) -> float:
    digest = hashlib.blake2b(f"{seed}|{number}|{what}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _from_config(p: PhoneConfig) -> Phone:
    return Phone(
        number=p.number,
        rcs=p.rcs,
        online=p.online,
        features=tuple(p.features),
        google_features=tuple(p.google_features),
        delivered_delay_s=p.delivered_delay_s,
        displayed_delay_s=p.displayed_delay_s,
        opted_out=set(p.opted_out),
        carrier_id=p.carrier_id,
        maap_error=p.maap_error,
    )


def _from_range(r: PhoneRangeConfig, number: str) -> Phone:
    return Phone(
        number=number,
        rcs=r.rcs and _unit(r.seed, number, "rcs") < r.rcs_ratio,
        online=_unit(r.seed, number, "online") < r.online_ratio,
        features=tuple(r.features),
        google_features=tuple(r.google_features),
        delivered_delay_s=r.delivered_delay_s,
        displayed_delay_s=r.displayed_delay_s,
        carrier_id=r.carrier_id,
        generated=True,
    )


class PhoneDirectory:
    """Lookup, listing and creation of simulated phones."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._ranges = list(config.phone_ranges)
        self._unknown_rcs = config.unknown_numbers_rcs
        self._phones: dict[str, Phone] = {}
        self._recent: OrderedDict[str, Phone] = OrderedDict()
        self._explicit: list[str] = []
        for p in config.phones:
            self.add(p)

    def add(self, phone: PhoneConfig) -> Phone:
        """Register an explicit phone; raises ``ValueError`` if the number already exists."""
        if phone.number in self._phones or self._range_of(phone.number) is not None:
            raise ValueError(f"phone {phone.number} already exists")
        created = _from_config(phone)
        self._phones[phone.number] = created
        self._explicit.append(phone.number)
        return created

    def _range_of(self, number: str) -> PhoneRangeConfig | None:
        for r in self._ranges:
            if not number.startswith(r.prefix):
                continue
            rest = number[len(r.prefix) :]
            if (
                len(rest) == r.digits
                and rest.isdigit()
                and r.start <= int(rest) < r.start + r.count
            ):
                return r
        return None

    def get(self, number: str) -> Phone | None:
        """The phone with this number (explicit, changed or generated), or ``None`` if unknown.

        With ``unknown_numbers_rcs`` every other valid number is an RCS phone.
        """
        phone = self._phones.get(number)
        if phone is not None:
            return phone
        recent = self._recent.get(number)
        if recent is not None:
            return recent
        r = self._range_of(number)
        if r is not None:
            generated = self._recent[number] = _from_range(r, number)
            if len(self._recent) > 4096:
                self._recent.popitem(last=False)
            return generated
        if self._unknown_rcs and is_e164(number):
            return Phone(
                number=number,
                features=DEFAULT_GSMA_FEATURES,
                google_features=DEFAULT_GOOGLE_FEATURES,
                generated=True,
            )
        return None

    def materialize(self, number: str) -> Phone | None:
        """The phone as a kept object, so that changes to it (online, opt-out) persist."""
        phone = self._phones.get(number)
        if phone is None:
            phone = self.get(number)
            if phone is not None:
                self._phones[number] = phone
                self._recent.pop(number, None)
        return phone

    def __len__(self) -> int:
        return len(self._explicit) + sum(r.count for r in self._ranges)

    def numbers(self, offset: int = 0, limit: int = 100) -> Iterator[str]:
        """Phone numbers in a stable order: explicit phones first, then each range in order."""
        index = 0
        end = offset + limit
        for number in self._explicit:
            if index >= end:
                return
            if index >= offset:
                yield number
            index += 1
        for r in self._ranges:
            if index + r.count <= offset:
                index += r.count
                continue
            first = max(0, offset - index)
            for i in range(first, r.count):
                if index + i >= end:
                    return
                yield f"{r.prefix}{r.start + i:0{r.digits}d}"
            index += r.count

    def page(self, offset: int = 0, limit: int = 100) -> list[Phone]:
        """A page of phones (see :meth:`numbers` for the order)."""
        out = []
        for number in self.numbers(offset, limit):
            phone = self.get(number)
            if phone is not None:
                out.append(phone)
        return out
