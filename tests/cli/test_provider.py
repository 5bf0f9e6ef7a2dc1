"""rcskit send / capabilities / revoke / status / upload / tester add, as a user runs them.

The commands run against the in-process emulator (its Dotgo bot, through the built-in
``emulator`` profile) or a fake SMSBOX; nothing leaves the process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from click.testing import Result
from pydantic import SecretStr
from typer.testing import CliRunner

from rcskit.cli.config import EMULATOR_SECRET_ENV
from rcskit.cli.provider import parse_reply, register
from rcskit.emulator.app import create_app
from rcskit.emulator.config import default_config
from rcskit.transport import AsgiTransport, FakeTransport, HttpRequest, HttpResponse

SECRET = "emulator-test-secret"
RCS_USER = "+914253136789"
NOT_RCS = "+914253136788"
runner = CliRunner()


@pytest.fixture
def emulator() -> Any:
    config = default_config()
    config.bots = [b for b in config.bots if b.provider == "dotgo"]  # the profile's bot
    bot = next(b for b in config.bots if b.id == "OsOsQ0GwNvUdLTV9Bd")
    bot.client_secret = SecretStr(SECRET)
    return create_app(config)


@pytest.fixture
def cli(emulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.chdir(tmp_path)  # no ./rcskit.toml: only the built-in emulator profile
    app = typer.Typer()
    register(app, transport=lambda: AsgiTransport(emulator))
    return app


def run(app: typer.Typer, *args: str, env: dict[str, str] | None = None) -> Result:
    result = runner.invoke(app, list(args), env={EMULATOR_SECRET_ENV: SECRET, **(env or {})})
    assert "Traceback" not in result.output
    return result


def error_of(result: Result) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


# ---------------------------------------------------------------- against the emulator


def test_send_status_and_revoke(cli: typer.Typer) -> None:
    sent = run(
        cli, "send", "--to", RCS_USER, "--text", "hello", "--reply", "Yes:yes", "--reply", "No"
    )
    assert sent.exit_code == 0, sent.output
    words = sent.stdout.split()
    assert words[0] == "sent" and words[2:] == ["(pending)", "to", RCS_USER, "via", "emulator"]
    message_id = words[1]
    status = run(cli, "status", message_id)
    assert status.exit_code == 0 and status.stdout.split()[0] == message_id
    revoked = run(cli, "revoke", message_id, "--provider", "emulator")
    assert revoked.exit_code == 0
    assert revoked.stdout.strip() == f"revocation of {message_id} accepted by emulator"


def test_send_a_json_body_and_a_file(cli: typer.Typer, tmp_path: Path) -> None:
    body = tmp_path / "card.json"
    body.write_text(json.dumps({"RCSMessage": {"textMessage": "from a file"}}))
    assert run(cli, "send", "--to", RCS_USER, "--json", str(body)).exit_code == 0
    url = run(cli, "send", "--to", RCS_USER, "--file", "https://example.com/a.jpg")
    assert url.exit_code == 0, url.output


def test_capabilities_one_many_and_from_a_file(cli: typer.Typer, tmp_path: Path) -> None:
    one = run(cli, "capabilities", RCS_USER)
    assert one.exit_code == 0 and one.stdout.startswith(f"{RCS_USER}  RCS  ")
    assert "chatBotCommunication" in one.stdout
    assert run(cli, "capabilities", NOT_RCS).stdout.strip() == f"{NOT_RCS}  not RCS"
    numbers = tmp_path / "numbers.txt"
    numbers.write_text(f"# customers\n{RCS_USER}\n\n{NOT_RCS}  # old phone\n")
    many = run(cli, "capabilities", "--file", str(numbers))
    assert many.exit_code == 0, many.output
    assert many.stdout.splitlines() == [
        f"{RCS_USER}  RCS",
        f"{NOT_RCS}  not RCS",
        "1 RCS, 1 not RCS, 0 unknown (dotgo)",
    ]


def test_upload_a_local_file(cli: typer.Typer, tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    result = run(cli, "upload", str(image))
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[0] and "status=" in result.stdout


def test_upload_until_must_be_a_future_time(cli: typer.Typer, tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    for bad in ("yesterday", "2020-01-01T00:00:00Z"):
        result = run(cli, "upload", str(image), "--until", bad)
        assert result.exit_code == 1
        assert error_of(result).startswith(f"error: --until {bad!r}: give a future RFC 3339 time")
    ok = run(cli, "upload", str(image), "--until", "2999-01-01T00:00:00Z")
    assert ok.exit_code == 0, ok.output


# ---------------------------------------------------------------- one-line errors


def test_unknown_provider_lists_the_configured_ones(cli: typer.Typer) -> None:
    line = error_of(run(cli, "send", "--provider", "nope", "--to", RCS_USER, "--text", "x"))
    assert line == "error: unknown provider 'nope'; configured: emulator"


def test_a_bad_number_is_named(cli: typer.Typer) -> None:
    line = error_of(run(cli, "send", "--to", "12", "--text", "x"))
    assert "--to '12' is not a possible phone number" in line
    line = error_of(run(cli, "capabilities", RCS_USER, "+1 nope"))
    assert "number '+1 nope' is not a possible phone number" in line


def test_message_options_are_exclusive(cli: typer.Typer) -> None:
    line = error_of(run(cli, "send", "--to", RCS_USER, "--text", "a", "--file", "https://e.com/a"))
    assert line == "error: give exactly one of --text, --json or --file (got --text, --file)"
    assert "got none" in error_of(run(cli, "send", "--to", RCS_USER))
    assert "TEXT:DATA" in error_of(
        run(cli, "send", "--to", RCS_USER, "--text", "a", "--reply", ":x")
    )
    assert "not JSON" in error_of(run(cli, "send", "--to", RCS_USER, "--json", __file__))
    empty = error_of(run(cli, "send", "--to", RCS_USER, "--text", ""))
    assert "content.text" in empty and "must not be empty" in empty


def test_a_json_body_s_own_recipient_is_reported_as_ignored(
    cli: typer.Typer, tmp_path: Path
) -> None:
    body = tmp_path / "m.json"
    body.write_text(
        json.dumps(
            {
                "RCSMessage": {"textMessage": "hi"},
                "messageContact": {"userContact": "+914253136788"},
            }
        )
    )
    result = run(cli, "send", "--to", RCS_USER, "--json", str(body))
    assert result.exit_code == 0, result.output
    assert "the file's recipient (+914253136788) is ignored; sending to --to" in result.stderr


def test_a_missing_secret_variable_is_named(cli: typer.Typer, tmp_path: Path) -> None:
    (tmp_path / "rcskit.toml").write_text(
        '[providers.prod]\nkind = "dotgo"\nbot_id = "b"\nclient_id = "c"\n'
        'client_secret_env = "PROD_DOTGO_SECRET"\n'
    )
    line = error_of(run(cli, "status", "m-1", "--provider", "prod"))
    assert (
        "providers.prod.client_secret_env: environment variable PROD_DOTGO_SECRET is not set"
        in line
    )
    # the file's only provider is the default, with --config or from the current directory
    explicit = error_of(run(cli, "status", "m-1", "--config", str(tmp_path / "rcskit.toml")))
    assert explicit == line.replace("rcskit.toml", str(tmp_path / "rcskit.toml"))
    assert error_of(run(cli, "status", "m-1")) == line


def test_wrong_credentials_and_unsupported_operations(cli: typer.Typer) -> None:
    refused = error_of(run(cli, "status", "m-1", env={EMULATOR_SECRET_ENV: "wrong-secret"}))
    assert refused.startswith("error: [dotgo 401") and "wrong-secret" not in refused
    unsupported = error_of(run(cli, "tester", "add", RCS_USER))
    assert (
        unsupported
        == "error: add_tester is not supported by dotgo: the provider does not offer this operation"
    )
    missing = error_of(run(cli, "upload", "no-such-file.png"))
    assert "no-such-file.png: no such file" in missing


def test_help_lists_every_command(cli: typer.Typer) -> None:
    result = runner.invoke(cli, ["--help"])
    for command in ("send", "capabilities", "revoke", "status", "upload", "tester"):
        assert command in result.output
    assert "add" in runner.invoke(cli, ["tester", "--help"]).output


def test_parse_reply() -> None:
    assert (parse_reply("Yes:yes_data").text, parse_reply("Yes:yes_data").postback_data) == (
        "Yes",
        "yes_data",
    )
    assert parse_reply("Maybe").postback_data == "Maybe"
    assert parse_reply("Time: now:later").postback_data == " now:later"


# ---------------------------------------------------------------- another provider, from the TOML


@pytest.fixture
def smsbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[typer.Typer, list[HttpRequest]]]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rcskit.toml").write_text(
        'default_provider = "box"\n[providers.box]\nkind = "smsbox"\nagent_id = "agent-7"\n'
        'api_key_env = "SMSBOX_KEY"\nbase_url = "http://127.0.0.1:9/smsbox"\n'
    )

    def answer(req: HttpRequest) -> HttpResponse:
        body = json.loads(req.encode().body or b"{}")
        entries = [
            {
                "submitted": n,
                "state": "SUCCESS",
                "reason_code": "REACHABLE",
                "capabilities": ["chat"],
            }
            if n.endswith("8")
            else {"submitted": n, "state": "FAILED", "reason_code": "NOT_RCS"}
            for n in body.get("recipients", [])
        ]
        if req.url.endswith("/message"):
            return HttpResponse.of_json(202, {"reference": "REF-9", "recipients": entries})
        if req.url.endswith("/add-testers"):
            return HttpResponse.of_json(
                200, {"recipients": [{"state": "ADDED", "submitted": body["recipients"][0]}]}
            )
        return HttpResponse.of_json(200, {"recipients": entries})

    fake = FakeTransport(answer)
    app = typer.Typer()
    register(app, transport=lambda: fake)
    yield app, fake.requests


def test_smsbox_from_the_toml(smsbox: tuple[typer.Typer, list[HttpRequest]]) -> None:
    app, requests = smsbox
    env = {"SMSBOX_KEY": "box-key"}
    sent = runner.invoke(app, ["send", "--to", "+33612345678", "--text", "hi"], env=env)
    assert (
        sent.exit_code == 0
        and sent.stdout.strip() == "sent REF-9 (success) to +33612345678 via box"
    )
    caps = runner.invoke(app, ["capabilities", "+33612345678", "+33612345679"], env=env)
    assert caps.stdout.splitlines()[-1] == "1 RCS, 1 not RCS, 0 unknown (smsbox)"
    testers = runner.invoke(app, ["tester", "add", "+33612345670", "+33612345671"], env=env)
    assert testers.stdout.splitlines() == ["+33612345670  ADDED", "+33612345671  ADDED"]
    assert [r.url.rsplit("/", 1)[1] for r in requests] == [
        "message",
        "capabilities",
        "add-testers",
        "add-testers",
    ]
    assert all(r.header("Authorization") == "App box-key" for r in requests)
    unsupported = runner.invoke(app, ["status", "REF-9"], env=env)
    assert error_of(unsupported) == (
        "error: status is not supported by smsbox: the provider does not offer this operation"
    )


# ---------------------------------------------------------------- --json and rcskit JSON


def json_lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_status_and_capabilities_as_json(cli: typer.Typer, tmp_path: Path) -> None:
    sent = run(cli, "send", "--to", RCS_USER, "--text", "hello")
    message_id = sent.stdout.split()[1]
    [status] = json_lines(run(cli, "status", message_id, "--json"))
    assert status["message_id"] == message_id and status["provider"] == "dotgo"
    assert set(status) == {"message_id", "status", "timestamp", "provider"}
    [one] = json_lines(run(cli, "capabilities", RCS_USER, "--json"))
    assert one["number"] == RCS_USER and one["rcs_enabled"] is True
    assert "chatBotCommunication" in one["features"]
    numbers = tmp_path / "numbers.txt"
    numbers.write_text(f"{RCS_USER}\n{NOT_RCS}\n")
    many = json_lines(run(cli, "capabilities", "--file", str(numbers), "--json"))
    assert [(r["number"], r["rcs_enabled"], r["features"]) for r in many] == [
        (RCS_USER, True, None),
        (NOT_RCS, False, None),
    ]


def test_send_json_takes_rcskit_json(cli: typer.Typer, tmp_path: Path) -> None:
    body = tmp_path / "card.json"
    message = {
        "content": {"kind": "text", "text": "from rcskit JSON"},
        "suggestions": [{"kind": "reply", "text": "Yes", "postback_data": "yes"}],
    }
    body.write_text(json.dumps(message))
    sent = run(cli, "send", "--to", RCS_USER, "--json", str(body))
    assert sent.exit_code == 0, sent.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"content": {"kind": "text"}}))
    line = error_of(run(cli, "send", "--to", RCS_USER, "--json", str(wrong)))
    assert line.startswith(f"error: --json: {wrong}: ") and "text" in line


BAD_FILES = {
    "not UTF-8": (b'{"RCSMessage": {"textMessage": "caf\xe9"}}', "not UTF-8 text"),
    "deep": (b"[" * 100 + b"]" * 100, "nested"),
    "huge integer": (b'{"RCSMessage": {"textMessage": "x"}, "n": ' + b"9" * 5000 + b"}", "number"),
    "lone surrogate": (b'{"RCSMessage": {"textMessage": "\\ud800"}}', "surrogate"),
    "not JSON": (b"{nope", "not JSON"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=str)
def test_send_json_refuses_every_bad_file_in_one_line(
    cli: typer.Typer, tmp_path: Path, case: str
) -> None:
    data, reason = BAD_FILES[case]
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    line = error_of(run(cli, "send", "--to", RCS_USER, "--json", str(path)))
    assert reason in line
