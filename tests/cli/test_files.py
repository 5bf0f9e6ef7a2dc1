"""Bad input files and bad bots: one line each, never a traceback (validate, convert, run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rcskit.cli import app

runner = CliRunner()

BAD_FILES = {
    "not UTF-8": (b'{"RCSMessage": {"textMessage": "caf\xe9"}}', "not UTF-8 text"),
    "deep": (b"[" * 100 + b"]" * 100, "nested deeper than 64 levels"),
    "huge integer": (b'{"RCSMessage": {"textMessage": "x"}, "n": ' + b"9" * 5000 + b"}", "number"),
    "lone surrogate": (b'{"RCSMessage": {"textMessage": "\\ud800"}}', "lone UTF-16 surrogate"),
    "not JSON": (b"{nope", "not JSON"),
}


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("command", [["validate"], ["convert", "--to", "google"]])
@pytest.mark.parametrize("case", BAD_FILES, ids=str)
def test_every_bad_file_is_one_line(tmp_path: Path, command: list[str], case: str) -> None:
    data, reason = BAD_FILES[case]
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    result = runner.invoke(app, [*command, str(path)])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: {path}: ") and reason in line, line


def test_a_file_that_is_not_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "RCSMessage": {\n    "textMessage": "x",,\n  }\n}\n')
    line = one_error_line(runner.invoke(app, ["validate", str(path)]).output)
    assert "at line 3 column" in line


def test_validate_and_convert_take_rcskit_json(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    message = {
        "content": {"kind": "text", "text": "Hello"},
        "suggestions": [{"kind": "reply", "text": "Yes", "postback_data": "yes"}],
    }
    path.write_text(json.dumps(message))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"OK: {path} is a valid rcskit text message (gsma limits)"
    long = tmp_path / "long.json"
    long.write_text(json.dumps({"content": {"kind": "text", "text": "x" * 3100}}))
    assert runner.invoke(app, ["validate", str(long)]).exit_code == 0  # GSMA: no text limit
    refused = runner.invoke(app, ["validate", "-p", "dotgo_google", str(long)])
    assert refused.exit_code == 1 and "3072" in refused.stdout
    converted = runner.invoke(app, ["convert", "--to", "google", str(path)])
    assert converted.exit_code == 0, converted.output
    body = json.loads(converted.stdout)
    assert body["contentMessage"]["text"] == "Hello"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"content": {"kind": "text"}}))
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1 and "content" in one_error_line(result.output)


def test_a_bot_file_with_a_syntax_error_is_one_line(tmp_path: Path) -> None:
    bot = tmp_path / "broken_bot.py"
    bot.write_text("from rcskit.app import Bot\nbot = Bot(\n")
    result = runner.invoke(app, ["run", f"{bot}:bot", "--port", "0"])
    assert result.exit_code == 1
    line = one_error_line(result.output)
    assert line.startswith(f"error: {bot}, line ") and "syntax error" in line, line
