"""Reading the recipients CSV: phone column, delimiter, invalid numbers by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcskit.campaign import CampaignError
from rcskit.campaign.recipients import fingerprint, read_layout, read_recipients
from rcskit.store import RecipientStatus


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["phone", "MSISDN", "Number"])
def test_the_phone_column_is_found_by_name(tmp_path: Path, name: str) -> None:
    layout = read_layout(_write(tmp_path, f"first_name,{name}\nAda,+33612345678\n"))
    assert layout.phone_column == name and layout.columns == ("first_name", name)


def test_an_explicit_phone_column_and_other_delimiters(tmp_path: Path) -> None:
    path = _write(tmp_path, "name;mobile\nAda;+33612345678\n")
    layout = read_layout(path, "mobile")
    assert layout.delimiter == ";"
    [r] = read_recipients(layout)
    assert (r.line_number, r.msisdn, r.params) == (
        2,
        "+33612345678",
        {"name": "Ada", "mobile": "+33612345678"},
    )


@pytest.mark.parametrize(
    ("text", "column", "error"),
    [
        ("", None, "empty file"),
        ("name,city\nAda,Paris\n", None, "no phone column"),
        ("name,phone\n", "mobile", "no column 'mobile'"),
        ("phone,,x\n", None, "a column has no name"),
        ("phone,phone\n", None, "appears twice"),
    ],
)
def test_bad_headers_are_refused(tmp_path: Path, text: str, column: str | None, error: str) -> None:
    with pytest.raises(CampaignError, match=error):
        read_layout(_write(tmp_path, text), column)


def test_invalid_numbers_and_missing_values_are_reported_by_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "phone,first_name\n+33612345678,Ada\n\n12,Bob\n,Carl\n+33612345679,\n06 12 34 56 70,Dan\n",
    )
    rows = list(read_recipients(read_layout(path), required=["first_name"]))
    assert [(r.line_number, r.status, r.msisdn) for r in rows] == [
        (2, RecipientStatus.QUEUED, "+33612345678"),
        (4, RecipientStatus.INVALID, None),
        (5, RecipientStatus.INVALID, None),
        (6, RecipientStatus.INVALID, None),
        (7, RecipientStatus.INVALID, None),
    ]
    assert "'12' is not a possible phone number" in (rows[1].error or "")
    assert rows[2].error == "no phone number"
    assert rows[3].error == "no value for {first_name} (column 'first_name' is empty)"
    national = list(read_recipients(read_layout(path), region="FR"))
    assert national[-1].msisdn == "+33612345670"


def test_a_row_with_more_fields_than_the_header_breaks_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "phone,name\n+33612345678,Ada\n+33612345679,Bob,extra\n")
    with pytest.raises(CampaignError, match="line 3: 3 fields, the header has 2"):
        list(read_recipients(read_layout(path)))


def test_quoted_fields_spanning_lines_keep_the_line_numbers_right(tmp_path: Path) -> None:
    path = _write(tmp_path, 'phone,note\n+33612345678,"two\nlines"\n+33612345679,x\n')
    rows = list(read_recipients(read_layout(path)))
    assert [r.line_number for r in rows] == [2, 4]
    assert rows[0].params["note"] == "two\nlines"


def test_the_fingerprint_changes_with_the_content(tmp_path: Path) -> None:
    path = _write(tmp_path, "phone\n+33612345678\n")
    first = fingerprint(path)
    assert fingerprint(path) == first
    path.write_text("phone\n+33612345679\n", encoding="utf-8")
    assert fingerprint(path) != first
