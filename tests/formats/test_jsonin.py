"""Bounded JSON input: every refusal is a JsonInputError with a short reason."""

from __future__ import annotations

import pytest

from rcskit.formats.jsonin import JsonInputError, check_depth, load_json


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"[" * 1000 + b"]" * 1000, "deeper than 64"),
        (b"[" * 65 + b"]" * 65, "deeper than 64"),
        (b"1" * 5000, "out of range"),
        (b"1e400", "out of range"),
        (b'"\\ud800"', "surrogate"),
        ("\ud800", "surrogate"),
        (b"\xff\xfe", "UTF-8"),
        (b'{"a":', "not JSON"),
        (b"", "not JSON"),
    ],
)
def test_refusals_name_the_reason(data: bytes | str, reason: str) -> None:
    with pytest.raises(JsonInputError) as caught:
        load_json(data)
    assert reason in caught.value.reason
    assert isinstance(caught.value, ValueError)


def test_accepts_ordinary_json_up_to_the_depth() -> None:
    assert load_json(b"[" * 64 + b"]" * 64) is not None
    assert load_json('{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    assert load_json(b'{"a":1}', max_depth=1) == {"a": 1}
    with pytest.raises(JsonInputError):
        load_json(b'{"a":{}}', max_depth=1)


def test_check_depth_counts_containers_only() -> None:
    check_depth(5, max_depth=0)
    check_depth({"a": 1, "b": "x"}, max_depth=1)
    with pytest.raises(JsonInputError):
        check_depth({"a": [1]}, max_depth=1)
