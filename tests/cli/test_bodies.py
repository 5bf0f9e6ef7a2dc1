"""The command line: validate and convert, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rcskit import __version__
from rcskit.cli import app
from tests.seeds import DATA, entries, load

runner = CliRunner()
SEED_TIME = "2014-01-01T00:00:00Z"  # the seeds' examples expire in 2014/2024


def _write(tmp_path: Path, body: Any, name: str = "m.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return str(path)


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rcskit {__version__}"


@pytest.mark.parametrize("command", ["validate", "convert"])
def test_help_on_every_command(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


REQUESTS = [
    e
    for e in entries(kind="request", format=lambda f: f in ("gsma", "google"))
    if "{{" not in json.dumps(load(e))  # Orange's second example is a template with placeholders
]


@pytest.mark.parametrize("entry", REQUESTS, ids=lambda e: e["file"])
def test_validate_accepts_every_seed_request(entry: dict[str, Any]) -> None:
    result = runner.invoke(app, ["validate", "--at", SEED_TIME, str(DATA / entry["file"])])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ")


def test_validate_reads_stdin() -> None:
    body = json.dumps({"RCSMessage": {"textMessage": "hi"}})
    result = runner.invoke(app, ["validate", "-"], input=body)
    assert result.exit_code == 0
    assert "OK: - is a valid gsma text message" in result.stdout


VIOLATIONS = [
    (
        {
            "RCSMessage": {
                "textMessage": "x",
                "suggestedChipList": {
                    "suggestions": [{"reply": {"displayText": "x" * 26, "postback": {"data": "a"}}}]
                },
            }
        },
        "RCSMessage.suggestedChipList.suggestions[0].reply.displayText",
        "25",
    ),
    (
        {"contentMessage": {"text": "x" * 3073}},
        "contentMessage.text",
        "3072",
    ),
    (
        {"RCSMessage": {"textMessage": "x"}, "ttl": "30 seconds"},
        "ttl",
        "ttl",
    ),
    (
        {"RCSMessage": {"textMessage": "x"}, "expireTime": "2001-01-01T00:00:00Z"},
        "expireTime",
        "future",
    ),
    (
        {
            "RCSMessage": {
                "richcardMessage": {
                    "message": {"generalPurposeCardCarousel": {"content": [{"title": "only one"}]}}
                }
            }
        },
        "RCSMessage.richcardMessage.message.generalPurposeCardCarousel.content",
        "2",
    ),
    (
        {"RCSMessage": {"textMessage": "x", "colour": "red"}},
        "RCSMessage.colour",
        "unknown field",
    ),
    (
        {
            "contentMessage": {
                "text": "x",
                "suggestions": [
                    {
                        "action": {
                            "text": "Go",
                            "postbackData": "p",
                            "openUrlAction": {"url": "not a url"},
                        }
                    }
                ],
            }
        },
        "contentMessage.suggestions[0].action.openUrlAction.url",
        "URL",
    ),
    (
        {"users": ["+14251234567", "12"]},
        "users[1]",
        "phone",
    ),
]


@pytest.mark.parametrize(("body", "path", "limit_word"), VIOLATIONS, ids=lambda v: str(v)[:30])
def test_validate_rejects_each_kind_naming_path_and_limit(
    tmp_path: Path, body: Any, path: str, limit_word: str
) -> None:
    result = runner.invoke(app, ["validate", _write(tmp_path, body)])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if path in line]
    assert lines, result.output
    assert limit_word.lower() in lines[0].lower()


def test_validate_reports_all_violations_one_per_line(tmp_path: Path) -> None:
    chips = [{"reply": {"displayText": "y" * 30, "postback": {"data": "a"}}} for _ in range(12)]
    body = {"RCSMessage": {"textMessage": "x", "suggestedChipList": {"suggestions": chips}}}
    result = runner.invoke(app, ["validate", _write(tmp_path, body)])
    assert result.exit_code == 1
    assert len(result.stdout.strip().splitlines()) == 13  # 12 long texts + 1 too many chips


def test_validate_not_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "not JSON" in result.output and "line 1" in result.output
    result = runner.invoke(app, ["validate", str(tmp_path / "missing.json")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


def test_validate_unknown_format_and_profile(tmp_path: Path) -> None:
    path = _write(tmp_path, {"RCSMessage": {"textMessage": "x"}})
    assert runner.invoke(app, ["validate", "--format", "gsmaa", path]).exit_code == 2
    result = runner.invoke(app, ["validate", "--provider", "dotgoo", path])
    assert result.exit_code == 2
    assert "dotgo" in result.output
    result = runner.invoke(app, ["validate", _write(tmp_path, {"hello": 1}, "x.json")])
    assert result.exit_code == 1
    assert "cannot tell the format" in result.output


def _convert(tmp_path: Path, body: Any, to: str, *extra: str) -> Any:
    result = runner.invoke(
        app, ["convert", "--to", to, *extra, _write(tmp_path, body, f"{to}.json")]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _without_false_force_refresh(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: _without_false_force_refresh(v)
            for k, v in body.items()
            if not (k == "forceRefresh" and v is False)
        }
    if isinstance(body, list):
        return [_without_false_force_refresh(v) for v in body]
    return body


def _refused_for_its_thumbnail(tmp_path: Path, google_body: Any) -> bool:
    """A Google card with a thumbnailUrl cannot become GSMA (GSMA wants the thumbnail's type
    and size): convert refuses it, naming the thumbnail, rather than emit an invalid body."""
    if "thumbnailUrl" not in json.dumps(google_body):
        return False
    path = _write(tmp_path, google_body, "google-thumb.json")
    result = runner.invoke(app, ["convert", "--to", "gsma", path])
    assert result.exit_code == 1
    assert "thumbnailUrl" in result.stdout and "requires thumbnail_content_type" in result.stdout
    return True


@pytest.mark.parametrize(
    "file", ["dotgo_google/send_richcard_request.json", "dotgo_google/send_carousel_request.json"]
)
def test_convert_google_seed_cards_round_trip(tmp_path: Path, file: str) -> None:
    original = load(file)
    if _refused_for_its_thumbnail(tmp_path, original):
        return
    as_gsma = _convert(tmp_path, original, "gsma")
    assert "RCSMessage" in as_gsma
    back = _convert(tmp_path, as_gsma, "google")
    # forceRefresh=false is Google's default; GSMA has no such field, so only a false one is lost.
    assert back == _without_false_force_refresh(original)


@pytest.mark.parametrize("file", ["dotgo_gsma/send_carousel_request.json"])
def test_convert_gsma_seed_cards_round_trip(tmp_path: Path, file: str) -> None:
    original = load(file)
    path = _write(tmp_path, original)
    result = runner.invoke(app, ["convert", "--to", "google", "--strict", path])
    assert result.exit_code == 1  # --strict: the media metadata Google recomputes is refused...
    assert "content_type" in result.output and "leave out --strict" in result.output
    dropped = runner.invoke(app, ["convert", "--to", "google", path])  # ...else dropped, named
    assert dropped.exit_code == 0 and "dropped: RCSMessage." in dropped.stderr
    assert "mediaContentType" in dropped.stderr
    as_google = _convert(tmp_path, original, "google", "--drop-metadata")
    if _refused_for_its_thumbnail(tmp_path, as_google):
        return
    back = _convert(tmp_path, as_google, "gsma")
    media_keys = {
        "mediaContentType",
        "mediaFileSize",
        "thumbnailContentType",
        "thumbnailFileSize",
        "contentDescription",
    }

    def strip(body: Any) -> Any:
        if isinstance(body, dict):
            # Google carousels are always vertical, so a VERTICAL carousel orientation is implied.
            return {
                k: strip(v)
                for k, v in body.items()
                if k not in media_keys
                and k != "messageContact"
                and not (k == "cardOrientation" and v == "VERTICAL" and "cardWidth" in body)
            }
        if isinstance(body, list):
            return [strip(v) for v in body]
        return body

    assert strip(back) == strip(original)


def test_convert_unsupported_feature_names_it(tmp_path: Path) -> None:
    body = {"RCSMessage": {"audioMessage": {"fileUrl": "https://a.example/a.mp3"}}}
    result = runner.invoke(app, ["convert", "--to", "google", _write(tmp_path, body)])
    assert result.exit_code == 1
    assert "cannot convert to google" in result.output
    assert "Audio" in result.output or "audio" in result.output


def test_convert_bad_target(tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", "--to", "rbm", _write(tmp_path, {})])
    assert result.exit_code == 2
    assert "gsma or google" in result.output


def test_convert_metadata_error_names_the_cli_flag_and_the_real_reason() -> None:
    seed = str(DATA / "dotgo_gsma" / "send_richcard_request.json")  # a card with media metadata
    refused = runner.invoke(app, ["convert", "--to", "google", "--strict", seed])
    assert refused.exit_code == 1
    assert "leave out --strict" in refused.output and "drop_metadata=True" not in refused.output
    assert "derives file metadata" in refused.output and "carousel" not in refused.output
    dropped = runner.invoke(app, ["convert", "--to", "google", seed])
    assert dropped.exit_code == 0
    assert "dropped: RCSMessage.richcardMessage.message.generalPurposeCard.content.media." in (
        dropped.stderr
    )
    assert dropped.stdout.startswith("{")
