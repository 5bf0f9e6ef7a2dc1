"""Phone numbers: parse and normalise to E.164 with the ``phonenumbers`` library."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

from .errors import InvalidMessage, Violation

__all__ = ["E164_FORM", "E164_RULE", "e164_syntax_problem", "normalize_msisdn", "region_of"]

E164_RULE = "E.164: + then 1 to 15 digits, the first not 0"
"""The syntax every E.164 number has (ITU-T E.164: country codes start 1-9, 15 digits at most)."""

_E164_MAX_DIGITS = 15

E164_FORM = re.compile(r"\+[1-9][0-9]{0,14}")
"""A whole string (``fullmatch``) with the syntax of :data:`E164_RULE`: what
:func:`normalize_msisdn` returns has it. Syntax only: callers that take a number in this form
without :func:`normalize_msisdn` (``RcsClient.send(..., e164=True)``) vouch that it was
normalised before."""


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


def e164_syntax_problem(number: str) -> str | None:
    """The E.164 syntax rule ``number`` breaks, in words, or ``None`` when it has the syntax.

    Syntax only (``+1650253000`` passes although no country issues it): numbers inside
    suggestions are checked this way, recipients with :func:`normalize_msisdn`.

    >>> e164_syntax_problem("+1650253000") is None
    True
    >>> e164_syntax_problem("+33 6 12").split(" (E.164")[0]
    "must have only digits after + (no spaces or punctuation; found ' ')"
    """
    if not number.startswith("+"):
        return f"must start with + ({E164_RULE})"
    digits = number[1:]
    if not digits:
        return f"has no digits after + ({E164_RULE})"
    bad = next((c for c in digits if not ("0" <= c <= "9")), None)
    if bad is not None:
        hint = "digits only" if bad.isalnum() else "no spaces or punctuation"
        return f"must have only digits after + ({hint}; found {bad!r}) ({E164_RULE})"
    if digits[0] == "0":
        return f"the first digit after + must not be 0 (country codes start 1-9) ({E164_RULE})"
    if len(digits) > _E164_MAX_DIGITS:
        return f"has {len(digits)} digits, at most {_E164_MAX_DIGITS} ({E164_RULE})"
    return None


def region_of(msisdn: str) -> str | None:
    """Return the ISO region code (``"FR"``) of an E.164 number, or ``None`` if unknown."""
    try:
        parsed = phonenumbers.parse(msisdn, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)
