"""Reading the recipients CSV: the phone column, numbers to E.164, one row at a time.

The file is streamed (constant memory whatever its length); the delimiter (``,`` ``;`` tab
``|``) is sniffed from the header line. The phone column is ``--phone-column``, or the first
header named ``phone``, ``msisdn`` or ``number`` (case-insensitive). Line numbers are the
file's own (the header is line 1), so an error names the line a spreadsheet shows.

Each row becomes a :class:`~rcskit.store.NewRecipient`: ``queued`` with its E.164 number, or
``invalid`` with the reason (a number that does not parse, or an empty value a placeholder
needs). Every column is kept as the recipient's parameters.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidMessage
from ..phones import normalize_msisdn
from ..store import NewRecipient, RecipientStatus
from .errors import CampaignError

__all__ = ["PHONE_COLUMNS", "CsvLayout", "fingerprint", "read_layout", "read_recipients"]

PHONE_COLUMNS = ("phone", "msisdn", "number")
"""Header names recognised as the phone column, in order of preference."""

_DELIMITERS = ",;\t|"


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """What the header says: the delimiter, the columns and which one holds the number."""

    path: Path
    delimiter: str
    columns: tuple[str, ...]
    phone_column: str


def _open(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from handle


def read_layout(path: str | os.PathLike[str], phone_column: str | None = None) -> CsvLayout:
    """Read the header of ``path``; raise :class:`CampaignError` when the file cannot be read,
    is empty, or has no phone column."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = handle.readline()
    except OSError as err:
        raise CampaignError(f"{path}: cannot read ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise CampaignError(f"{path}: not UTF-8 text") from None
    if not header.strip():
        raise CampaignError(f"{path}: empty file: the first line must name the columns")
    counts = {d: header.count(d) for d in _DELIMITERS}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    columns = tuple(c.strip() for c in next(csv.reader([header], delimiter=delimiter)))
    if any(not c for c in columns):
        raise CampaignError(f"{path} line 1: a column has no name")
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise CampaignError(f"{path} line 1: column {dupes[0]!r} appears twice")
    if phone_column is not None:
        if phone_column not in columns:
            raise CampaignError(
                f"{path} line 1: no column {phone_column!r} (columns: {', '.join(columns)})"
            )
        chosen = phone_column
    else:
        lowered = {c.lower(): c for c in columns}
        found = next((lowered[n] for n in PHONE_COLUMNS if n in lowered), None)
        if found is None:
            raise CampaignError(
                f"{path} line 1: no phone column: name one {', '.join(PHONE_COLUMNS)} or pass "
                f"--phone-column (columns: {', '.join(columns)})"
            )
        chosen = found
    return CsvLayout(path, delimiter, columns, chosen)


def read_recipients(
    layout: CsvLayout,
    *,
    region: str | None = None,
    required: Iterable[str] = (),
) -> Iterator[NewRecipient]:
    """Stream the rows of ``layout.path`` as recipients (blank lines are skipped).

    ``region`` lets national numbers parse (``"FR"``: ``06 12 34 56 78``); ``required`` are the
    columns the message needs a value from (a row without one is ``invalid``). A row with more
    fields than the header raises :class:`CampaignError` naming the line (the file is broken,
    not one recipient).
    """
    needed = tuple(sorted(set(required)))
    columns = layout.columns
    phone = layout.phone_column
    reader = csv.reader(_open(layout.path), delimiter=layout.delimiter)
    next(reader, None)
    start = reader.line_num + 1
    for fields in reader:
        line = start
        start = reader.line_num + 1
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if len(fields) > len(columns):
            raise CampaignError(
                f"{layout.path} line {line}: {len(fields)} fields, the header has {len(columns)}"
            )
        params = {c: v.strip() for c, v in zip(columns, fields, strict=False)}
        raw = params.get(phone, "")
        missing = next((n for n in needed if not params.get(n)), None)
        if not raw:
            yield NewRecipient(line, None, params, RecipientStatus.INVALID, "no phone number")
            continue
        try:
            msisdn = normalize_msisdn(raw, region, field=phone)
        except InvalidMessage:
            where = f"region {region}" if region else "E.164 with + and country code"
            yield NewRecipient(
                line,
                None,
                params,
                RecipientStatus.INVALID,
                f"{raw!r} is not a possible phone number ({where})",
            )
            continue
        if missing is not None:
            yield NewRecipient(
                line,
                None,
                params,
                RecipientStatus.INVALID,
                f"no value for {{{missing}}} (column {missing!r} is empty)",
            )
            continue
        yield NewRecipient(line, msisdn, params)


def fingerprint(path: str | os.PathLike[str]) -> str:
    """A short fingerprint of the file (size and SHA-256 of its first and last MiB), to notice
    when the CSV a resumed import reads is not the one the campaign was created from."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as handle:
        digest.update(handle.read(1 << 20))
        if size > 2 << 20:
            handle.seek(size - (1 << 20))
            digest.update(handle.read(1 << 20))
    return f"{size}:{digest.hexdigest()[:16]}"
