"""``rcskit campaign`` commands: what ``create`` refuses (before anything is sent) and what
``status``, ``list`` and ``report`` print; the report's files."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rcskit.campaign import CampaignError, NamedProvider
from rcskit.campaign.report import Funnel, funnel, html_report, png_chart
from rcskit.campaign.sends import CampaignCounts
from rcskit.cli.campaign import provider_config, register, resolve_provider
from rcskit.store import Campaign, CampaignStatus, MessageState, RecipientStatus, Store

from .conftest import write_recipients

app = typer.Typer()
register(app)


@app.callback()
def _root() -> None:
    """Test root."""


RUN = CliRunner()


async def _campaign(db: Path) -> Campaign | None:
    async with await Store.open(str(db)) as store:
        return await store.campaigns.get_campaign("c1")


PROVIDER = [
    "--provider", "dotgo", "--bot-id", "OsOsQ0GwNvUdLTV9Bd", "--client-id", "c",
    "--server-root", "http://127.0.0.1:9/dotgo/rcs",
]  # fmt: skip


def _create(tmp_path: Path, *extra: str, message: object | None = None) -> tuple[int, str]:
    csv_path = write_recipients(tmp_path / "r.csv", 5, extra="12,Bad\n+15550000001,Dup\n")
    msg = tmp_path / "msg.json"
    body = message or {"content": {"kind": "text", "text": "Hi {first_name}"}}
    msg.write_text(json.dumps(body, indent=2), encoding="utf-8")
    result = RUN.invoke(
        app,
        ["campaign", "create", "--name", "n", *PROVIDER, "--csv", str(csv_path),
         "--database", str(tmp_path / "c.db"), *extra]
        + (["--message", str(msg)] if "--template" not in extra else []),
    )  # fmt: skip
    return result.exit_code, result.output


def test_create_imports_and_counts(tmp_path: Path) -> None:
    code, out = _create(tmp_path, "--id", "c1", "--tps", "20", "--quiet-hours", "21:00-08:00")
    assert code == 0, out
    assert "campaign c1 created: 5 recipient(s), 1 invalid, 1 duplicate(s)" in out
    assert "r.csv line 7: '12' is not a possible phone number" in out
    assert "r.csv line 8: +15550000001 is a duplicate of line 3" in out
    status = RUN.invoke(app, ["campaign", "status", "c1", "--database", str(tmp_path / "c.db")])
    assert status.exit_code == 0
    assert "queued" in status.output and "unknown outcome: 0" in status.output
    assert "open: 5 (5 ready now)" in status.output
    listed = RUN.invoke(app, ["campaign", "list", "--database", str(tmp_path / "c.db")])
    assert "c1" in listed.output and "created" in listed.output


def test_a_placeholder_without_a_column_is_refused_naming_it_and_the_line(tmp_path: Path) -> None:
    message = {"content": {"kind": "text", "text": "Hi {first_name}, your code {code}"}}
    code, out = _create(tmp_path, message=message)
    assert code == 1
    assert "msg.json line 4: placeholder {code} has no column in the CSV" in out


def test_other_refusals(tmp_path: Path) -> None:
    """A value of the wrong form is a usage error (exit 2); input that the campaign cannot
    take is a failed check (exit 1, as every other command)."""
    cases = [
        (["--template", "spring_offer"], 1, "give --fallback-text"),
        (["--quiet-hours", "late"], 1, "--quiet-hours 'late'"),
        (["--start", "tomorrow"], 2, "'--start': 'tomorrow'"),
        (["--capabilities", "maybe"], 2, "'--capabilities': 'maybe'"),
        (["--tps", "0"], 1, "--tps 0: must be > 0"),
        (["--phone-column", "mobile"], 1, "no column 'mobile'"),
        (["--ttl", "soon"], 2, "'--ttl': 'soon'"),
    ]
    for extra, status, error in cases:
        code, out = _create(tmp_path, *extra)
        assert code == status and error in out, (extra, out)


def test_run_needs_the_secret_and_never_stores_it(tmp_path: Path) -> None:
    code, out = _create(tmp_path, "--id", "c1")
    assert code == 0, out
    result = RUN.invoke(
        app, ["campaign", "run", "c1", "--database", str(tmp_path / "c.db"), "--no-progress"],
        env={"RCSKIT_CLIENT_SECRET": ""},
    )  # fmt: skip
    assert result.exit_code == 1 and "no client secret" in result.output
    campaign = asyncio.run(_campaign(tmp_path / "c.db"))
    assert campaign is not None
    assert set(campaign.options["provider"]) == {
        "source",
        "kind",
        "bot_id",
        "client_id",
        "server_root",
    }


COUNTS = CampaignCounts(
    recipients={
        RecipientStatus.SENT: 70,
        RecipientStatus.FALLBACK: 20,
        RecipientStatus.INVALID: 4,
        RecipientStatus.DUPLICATE: 2,
        RecipientStatus.FAILED: 3,
        RecipientStatus.UNKNOWN: 1,
    },
    states={MessageState.SENT: 10, MessageState.DELIVERED: 40, MessageState.DISPLAYED: 20,
            MessageState.EXPIRED: 5, MessageState.FAILED: 3},
    failures=[("400-F bad body", 3)],
    clicked=7,
    fallback_after_send=5,
    accepted=75,
    unknown=[(17, "+15550000015")],
)  # fmt: skip


def test_the_funnel_and_its_files() -> None:
    f = funnel(COUNTS)
    assert isinstance(f, Funnel)
    assert dict(f.stages()) == {
        "recipients": 100,
        "invalid": 4,
        "duplicates": 2,
        "not RCS": 15,
        "sent": 75,
        "delivered": 60,
        "displayed": 20,
        "clicked a suggestion": 7,
        "failed": 3,
        "fallen back": 20,
        "unknown outcome": 1,
    }
    png = png_chart(f, "Campaign spring")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    campaign = Campaign(
        "c1", "spring <sale>", "dotgo", CampaignStatus.DONE, "{}", None, 10.0, None, None, {},
        datetime.now(UTC), datetime.now(UTC),
    )  # fmt: skip
    page = html_report(campaign, f, png, generated=datetime(2025, 3, 1, tzinfo=UTC))
    assert base64.b64encode(png).decode() in page  # the funnel chart is inlined
    assert "spring &lt;sale&gt;" in page and "+15550000015" in page
    assert "<script" not in page and "http" not in page.replace("https://", "")


def test_report_command_writes_png_and_html(tmp_path: Path) -> None:
    code, out = _create(tmp_path, "--id", "c1")
    assert code == 0, out
    result = RUN.invoke(
        app,
        ["campaign", "report", "c1", "--database", str(tmp_path / "c.db"), "--out",
         str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "recipients" in result.output and "still to do" in result.output
    assert (tmp_path / "out" / "c1-report.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "out" / "c1-report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "<td class=n>7</td><td>&#x27;12&#x27; is not a possible phone number" in page


def test_named_providers_come_from_the_configuration(tmp_path: Path) -> None:
    toml = tmp_path / "rcskit.toml"
    toml.write_text(
        '[providers.shop]\nkind = "dotgo_google"\nbot_id = "GgL8dP2wXq4RtY7Zb1"\n'
        'client_id = "g"\nclient_secret_env = "SHOP_SECRET"\n'
        'server_root = "http://127.0.0.1:9/dotgo/rcs"\ntps = 25\n',
        encoding="utf-8",
    )
    with pytest.raises(CampaignError, match="SHOP_SECRET is not set"):
        resolve_provider("shop", environ={}, config_file=toml)
    ref = resolve_provider("shop", environ={"SHOP_SECRET": "s3"}, config_file=toml)
    assert isinstance(ref, NamedProvider)
    assert (ref.name, ref.kind, ref.config_file) == ("shop", "dotgo_google", str(toml))
    config, tps = provider_config(ref, environ={"SHOP_SECRET": "s3"})
    assert config.name == "dotgo_google" and tps == 25
    assert "s3" not in repr(config) and "s3" not in json.dumps(ref.to_json())
    with pytest.raises(CampaignError, match="unknown provider 'nope'"):
        resolve_provider("nope", environ={}, config_file=toml)
    # without a file, the built-in emulator provider (the emulator's demo bot) is there
    built_in = resolve_provider("emulator", environ={}, config_file=None)
    assert isinstance(built_in, NamedProvider) and built_in.kind == "dotgo"


def test_create_with_the_built_in_emulator_provider(tmp_path: Path) -> None:
    csv_path = write_recipients(tmp_path / "r.csv", 3)
    msg = tmp_path / "msg.json"
    msg.write_text('{"content": {"kind": "text", "text": "Hi {first_name}"}}', encoding="utf-8")
    result = RUN.invoke(
        app,
        ["campaign", "create", "--name", "n", "--provider", "emulator", "--csv", str(csv_path),
         "--message", str(msg), "--id", "c1", "--database", str(tmp_path / "c.db")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    campaign = asyncio.run(_campaign(tmp_path / "c.db"))
    assert campaign is not None and campaign.provider == "emulator"
    assert campaign.options["provider"]["source"] == "config"


def test_webhook_port_is_checked_and_a_busy_port_is_one_line(
    tmp_path: Path, busy_port: int
) -> None:
    cli = CliRunner()
    db = str(tmp_path / "c.db")
    bad = cli.invoke(app, ["campaign", "webhook", "--provider", "dotgo", "--port", "99999"])
    assert bad.exit_code == 2 and "--port" in bad.output
    port = busy_port
    busy = cli.invoke(
        app, ["campaign", "webhook", "--provider", "dotgo", "--port", str(port), "-d", db]
    )
    assert busy.exit_code == 1
    lines = busy.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert not Path(db).exists()  # refused before the store was opened


def test_create_prints_one_progress_line_per_thousand_off_a_terminal(tmp_path: Path) -> None:
    csv_path = write_recipients(tmp_path / "r.csv", 2500)
    msg = tmp_path / "msg.json"
    msg.write_text(json.dumps({"content": {"kind": "text", "text": "Hi"}}), encoding="utf-8")
    result = RUN.invoke(
        app,
        ["campaign", "create", "--name", "n", *PROVIDER, "--csv", str(csv_path),
         "--message", str(msg), "--capabilities", "none", "--database", str(tmp_path / "c.db")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported 1,000 lines\nimported 2,000 lines\n" in result.stderr
    assert "\r" not in result.output


def test_status_list_and_report_as_json(tmp_path: Path) -> None:
    code, out = _create(tmp_path, "--id", "c1", "--tps", "20")
    assert code == 0, out
    db = str(tmp_path / "c.db")
    status = RUN.invoke(app, ["campaign", "status", "c1", "--database", db, "--json"])
    assert status.exit_code == 0, status.output
    record = json.loads(status.stdout)
    assert record["id"] == "c1" and record["status"] == "created" and record["tps"] == 20
    assert record["recipients"] == {"queued": 5, "invalid": 1, "duplicate": 1}
    assert (record["total"], record["open"], record["ready"]) == (7, 5, 5)
    assert record["unknown_outcome"] == 0 and record["messages"] == {}
    listed = RUN.invoke(app, ["campaign", "list", "--database", db, "--json"])
    [one] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (one["id"], one["provider"], one["status"]) == ("c1", "dotgo", "created")
    assert datetime.fromisoformat(one["created_at"])
    report = RUN.invoke(
        app, ["campaign", "report", "c1", "--database", db, "--out", str(tmp_path), "--json"]
    )
    assert report.exit_code == 0, report.output
    funnel_json = json.loads(report.stdout)
    assert (funnel_json["recipients"], funnel_json["invalid"], funnel_json["duplicates"]) == (
        7,
        1,
        1,
    )
    assert funnel_json["sent"] == 0 and funnel_json["unknown_lines"] == []
    assert Path(funnel_json["report"]).exists()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"content": {"kind": "text", "text": "caf\xe9"}}', "not UTF-8 text"),
        (b"[" * 100 + b"]" * 100, "nested deeper than 64 levels"),
        (b'{"content": {"kind": "text", "text": "\\ud800"}}', "lone UTF-16 surrogate"),
    ],
    ids=["not UTF-8", "deep", "lone surrogate"],
)
def test_a_bad_message_file_is_one_line(tmp_path: Path, data: bytes, reason: str) -> None:
    csv_path = write_recipients(tmp_path / "r.csv", 2)
    msg = tmp_path / "msg.json"
    msg.write_bytes(data)
    result = RUN.invoke(
        app,
        ["campaign", "create", "--name", "n", *PROVIDER, "--csv", str(csv_path),
         "--message", str(msg), "--database", str(tmp_path / "c.db")],
    )  # fmt: skip
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {msg}: ") and reason in lines[0]


def test_campaign_workers_send_with_the_lean_client_unless_told_otherwise() -> None:
    from rcskit.cli.campaign import campaign_transport
    from rcskit.transport import AiohttpTransport, Http1Transport

    assert isinstance(campaign_transport({}, 64), Http1Transport)
    assert isinstance(
        campaign_transport({"RCSKIT_CAMPAIGN_HTTP": " AIOHTTP "}, 64), AiohttpTransport
    )
    # the connections follow the sends in flight (a fixed 100 capped --concurrency 500)
    assert repr(campaign_transport({}, 500)) == "Http1Transport(limit=508)"
    assert repr(campaign_transport({"RCSKIT_CAMPAIGN_HTTP": "aiohttp"}, 8)) == (
        "AiohttpTransport(limit=100)"
    )


def test_a_misspelt_http_client_is_refused_naming_the_variable(tmp_path: Path) -> None:
    code, out = _create(tmp_path, "--id", "c1")
    assert code == 0, out
    result = RUN.invoke(
        app, ["campaign", "run", "c1", "--database", str(tmp_path / "c.db"), "--no-progress"],
        env={"RCSKIT_CLIENT_SECRET": "s", "RCSKIT_CAMPAIGN_HTTP": "aiohtp"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "RCSKIT_CAMPAIGN_HTTP='aiohtp': expected 'lean' (the default) or 'aiohttp'" in (
        result.output
    )
    campaign = asyncio.run(_campaign(tmp_path / "c.db"))
    assert campaign is not None and campaign.status is CampaignStatus.CREATED
