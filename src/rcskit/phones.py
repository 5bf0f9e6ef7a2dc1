"""Phone numbers: parse and normalise to E.164 with the ``phonenumbers`` library."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

from .errors import InvalidMessage, Violation

__all__ = ["normalize_msisdn", "region_of"]


@lru_cache(maxsize=65536)
def _normalize(number: str, region: str | None) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_msisdn(number: str, region: str | None = None, *, field: str = "msisdn") -> str:
    """Return ``number`` in E.164 form (``+33612345678``).

    ``region`` (ISO 3166 alpha-2, e.g. ``"FR"``) lets national forms such as ``06 12 34 56 78``
    parse; without it the number must start with ``+``. An unparseable or impossible number
    raises :class:`~rcskit.errors.InvalidMessage` naming the number and ``field``.

    >>> normalize_msisdn("+33 6 12 34 56 78")
    '+33612345678'
    """
    if not isinstance(number, str) or not number.strip():
        raise InvalidMessage([Violation(field, number, "a phone number is required")])
    result = _normalize(number.strip(), region.upper() if region else None)
    if result is None:
        hint = "E.164 with a leading + and country code" if region is None else f"region {region}"
        raise InvalidMessage([Violation(field, number, f"not a possible phone number ({hint})")])
    return result


def region_of(msisdn: str) -> str | None:
    """Return the ISO region code (``"FR"``) of an E.164 number, or ``None`` if unknown."""
    try:
        parsed = phonenumbers.parse(msisdn, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)
