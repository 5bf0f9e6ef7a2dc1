"""Campaigns end to end for every non-Dotgo provider: Orange BotHub, SMSBOX, a generic GSMA
MaaP and Google RBM, each against the emulator's own flavour (in-process, its ASGI app called
through AsgiTransport).

Each campaign is created from a small CSV (RCS numbers, one number without RCS, a duplicate
line) with the provider named the way a user names it (``rcskit.toml`` for Orange, SMSBOX and
Google; ``--bot-id``/``--client-id``/``--server-root`` options for MaaP), turned into a client
by :func:`rcskit.campaign.provider_config` as ``rcskit campaign run`` does, and run to the end.
The store must show every recipient finished, the number without RCS in the fallback CSV, no
duplicate; the emulator must hold exactly one message per RCS recipient, with its personalised
text, and nothing for the others. Statuses the emulator posts to a campaign webhook must reach
the campaign's funnel.

Also: Orange's bulk checks wait for its 22:00-07:00 Paris window (the emulator's clock moved
with its offset, the runner and the store reading the same clock); SMSBOX is checked 500
numbers per call; a lost answer is resent only to Google RBM, whose ``messageId`` (our
deterministic id) is the idempotency key; and the command line runs a Google RBM campaign
against the emulator served on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from rcskit.campaign import (
    CsvFallbackSender,
    MessageTemplate,
    NamedProvider,
    ProviderRef,
    ProviderSettings,
    Runner,
    RunOptions,
    build_client,
    create_campaign,
    funnel,
    webhook_app,
)
from rcskit.campaign.pacing import bulk_limiter, send_limiter
from rcskit.campaign.sends import CampaignSends
from rcskit.cli.campaign import provider_config, register, resolve_provider
from rcskit.client import RcsClient
from rcskit.emulator import create_app
from rcskit.emulator.config import (
    BotConfig,
    EmulatorConfig,
    PhoneConfig,
    PhoneRangeConfig,
    rsa_key_pair,
)
from rcskit.emulator.config import default_config as emulator_default_config
from rcskit.emulator.core.records import A2P, FMT_GOOGLE, FMT_GSMA
from rcskit.errors import TransportError
from rcskit.providers.orange import OrangeConfig
from rcskit.retry import NO_RETRY
from rcskit.store import Campaign, RecipientStatus, Store
from rcskit.transport import AsgiTransport, HttpRequest, HttpResponse, Transport

from .conftest import EmulatorServer, free_port

cli_app = typer.Typer()
register(cli_app)


@cli_app.callback()
def _root() -> None:
    """Test root."""


CLI = CliRunner()

E = "http://emulator.test"
PARIS = ZoneInfo("Europe/Paris")
RCS = ["+914253136789", "+919686960276", "+919686110276", "+919686960876"]
NOT_RCS = "+914253136788"
NAMES = {n: f"Ada{i}" for i, n in enumerate([*RCS, NOT_RCS])}
NUMBERS = [*RCS[:2], NOT_RCS, RCS[0], *RCS[2:]]  # line 4 repeats line 1
MESSAGE = {
    "content": {"kind": "text", "text": "Spring sale for {first_name}: 20% off"},
    "suggestions": [{"kind": "open_url", "text": "Shop", "url": "https://example.com/s"}],
}
BOTS = {
    "orange": "bothub-demo-bot",
    "smsbox": "SMSBOXDEMO0001",
    "maap": "maap-demo-bot",
    "google": "rcskit-demo-agent",
}
SECRET_ENV = "E2E_PROVIDER_SECRET"


def _emulator(
    kind: str, *, webhook: str | None = None, ranges: list[PhoneRangeConfig] | None = None
) -> Any:
    """The emulator with only ``kind``'s demo bot (unthrottled) and the seeds' phones,
    delivering and reading quickly."""
    base = emulator_default_config()
    bot = next(b for b in base.bots if b.provider == kind)
    bot = bot.model_copy(update={"tps": 100_000.0, "webhook_url": webhook})
    phones = [
        PhoneConfig(number=n, rcs=n != NOT_RCS, delivered_delay_s=0.05, displayed_delay_s=0.1)
        for n in [*RCS, NOT_RCS]
    ]
    return create_app(EmulatorConfig(bots=[bot], phones=phones, phone_ranges=ranges or []))


def _text_of(content: Any, fmt: int) -> str:
    """The text of a stored A2P message (GSMA ``textMessage`` or Google ``text``)."""
    if fmt == FMT_GSMA:
        return str(content["textMessage"])
    assert fmt == FMT_GOOGLE
    return str(content["text"])


def _provider_files(kind: str, bot: BotConfig, tmp: Path) -> tuple[ProviderRef, dict[str, str]]:
    """How a user names ``kind``'s account (a ``rcskit.toml`` table, or options for MaaP) and
    the environment holding its secret."""
    if kind == "maap":
        settings = ProviderSettings("maap", bot.id, bot.client_id, f"{E}/maap")
        return settings, {SECRET_ENV: bot.client_secret.get_secret_value()}
    environ: dict[str, str] = {}
    if kind == "orange":
        assert bot.private_key is not None
        (tmp / "orange.pem").write_text(bot.private_key.get_secret_value(), encoding="utf-8")
        basic = f"{bot.client_id}:{bot.client_secret.get_secret_value()}"
        environ[SECRET_ENV] = "Basic " + base64.b64encode(basic.encode()).decode()
        table = f"""kind = "orange"
bot_id = "{bot.id}"
token_url = "{E}/orange/oauth/v3/token"
api_url = "{E}/orange/bothub/v1"
bulk_poll_interval = 2.0
authorization_header_env = "{SECRET_ENV}"
private_key_file = "orange.pem"
"""
    elif kind == "smsbox":
        assert bot.api_key is not None
        environ[SECRET_ENV] = bot.api_key.get_secret_value()
        table = f"""kind = "smsbox"
agent_id = "{bot.id}"
base_url = "{E}/smsbox"
api_key_env = "{SECRET_ENV}"
"""
    else:
        assert bot.private_key is not None
        key = {
            "type": "service_account",
            "client_email": bot.client_id,
            "private_key": bot.private_key.get_secret_value(),
            "token_uri": "https://oauth2.googleapis.com/token",
        }
        (tmp / "service-account.json").write_text(json.dumps(key), encoding="utf-8")
        table = f"""kind = "google"
agent_id = "{bot.id}"
api_url = "{E}/google"
token_url = "{E}/google/token"
service_account_file = "service-account.json"
"""
    config = tmp / "rcskit.toml"
    config.write_text(f"[providers.{kind}-e2e]\n{table}", encoding="utf-8")
    ref = resolve_provider(f"{kind}-e2e", environ=environ, config_file=config)
    assert isinstance(ref, NamedProvider) and ref.kind == kind
    return ref, environ


def _first_name(number: str) -> str:
    return NAMES.get(number, f"Bo{number[-4:]}")


def _text(number: str) -> str:
    """The personalised text ``number`` must receive."""
    return f"Spring sale for {_first_name(number)}: 20% off"


def _write_csv(path: Path, numbers: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("phone,first_name\n")
        for n in numbers:
            handle.write(f"{n},{_first_name(n)}\n")
    return path


@dataclass
class Setup:
    kind: str
    app: Any
    store: Store
    campaign: Campaign
    client: RcsClient
    check_client: RcsClient
    fallback: Path
    clock: Callable[[], datetime]

    @property
    def state(self) -> Any:
        return self.app.state.emulator

    def runner(self, **kw: Any) -> Runner:
        return Runner(
            self.store,
            self.campaign,
            self.client,
            CsvFallbackSender(self.fallback),
            limiter=send_limiter(self.kind, 5000),
            check_client=self.check_client,
            clock=self.clock,
            **kw,
        )

    def delivered(self) -> dict[str, list[str]]:
        """The texts of the messages the emulator holds, by phone."""
        out: dict[str, list[str]] = {}
        for m in self.state.messages[BOTS[self.kind]].values():
            assert m.direction == A2P
            out.setdefault(m.phone, []).append(_text_of(m.content_json(), m.fmt))
        return out

    def api_calls(self, marker: str) -> list[Any]:
        return [e for e in self.state.log if e.kind == "api" and marker in e.target]

    def fallback_rows(self) -> list[dict[str, str]]:
        with self.fallback.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))


@contextlib.asynccontextmanager
async def _setup(
    tmp_path: Path,
    kind: str,
    numbers: list[str],
    *,
    webhook: str | None = None,
    ranges: list[PhoneRangeConfig] | None = None,
    night: bool = False,
    wrap: Callable[[Transport], Transport] | None = None,
    client_ahead_s: float = 0.0,
) -> AsyncIterator[Setup]:
    app = _emulator(kind, webhook=webhook, ranges=ranges)
    state = app.state.emulator
    if night:  # 23:00 in Paris today: inside Orange's bulk window
        now = state.now()
        local = now.astimezone(PARIS)
        at = datetime(local.year, local.month, local.day, 23, 0, tzinfo=PARIS)
        state.clock.offset_s = (at - now).total_seconds()
    clock: Callable[[], datetime] = state.now
    ref, environ = _provider_files(kind, state.bots[BOTS[kind]], tmp_path)
    store = await Store.open(str(tmp_path / "campaign.db"), clock=clock)
    fallback = tmp_path / "fallback.csv"
    campaign = await create_campaign(
        store,
        name=f"{kind}-spring",
        provider=ref,
        csv=_write_csv(tmp_path / "recipients.csv", numbers),
        message=MessageTemplate.from_json(json.dumps(MESSAGE), source="message.json"),
        tps=5000,
        fallback=f"csv:{fallback}",
    )
    # what `rcskit campaign run` does: the stored provider back into a client config
    config, _ = provider_config(ref, environ=environ, secret=environ.get(SECRET_ENV))
    assert config.name == kind
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    if isinstance(config, OrangeConfig):
        # the platform's clock for the bulk window and the JWTs; polling moves that clock
        config = replace(config, clock=lambda: clock() + timedelta(seconds=client_ahead_s))

        async def platform_sleep(seconds: float) -> None:
            await state.advance(seconds)

        sleep = platform_sleep
    transport: Transport = AsgiTransport(app)
    client = build_client(config, transport=wrap(transport) if wrap else transport, retry=NO_RETRY)
    check_client = RcsClient(
        config,
        auth=client.auth,
        transport=transport,
        limiter={"bulk": bulk_limiter(600)},
        sleep=sleep,
    )
    try:
        yield Setup(kind, app, store, campaign, client, check_client, fallback, clock)
    finally:
        await client.aclose()
        await store.close()
        await state.aclose()


async def _assert_finished(s: Setup, rcs: list[str], not_rcs: list[str], *, lines: int) -> None:
    """The store and the emulator agree: one message per RCS recipient, with its text; the
    others fell back; the duplicate line was never sent."""
    want = {RecipientStatus.SENT: len(rcs), RecipientStatus.FALLBACK: len(not_rcs)}
    if lines > len(rcs) + len(not_rcs):
        want[RecipientStatus.DUPLICATE] = lines - len(rcs) - len(not_rcs)
    assert await s.store.campaigns.count_recipients(s.campaign.id) == want
    stored = await s.store.messages.find_messages(campaign=s.campaign.id, limit=10_000)
    assert sorted(m.recipient for m in stored) == sorted(rcs), "one outbox row per RCS number"
    assert {m.provider for m in stored} == {s.kind}
    assert all(m.provider_message_id for m in stored)
    delivered = s.delivered()
    assert set(delivered) == set(rcs), "the emulator holds messages for the RCS numbers only"
    for number in rcs:
        assert delivered[number] == [_text(number)], "exactly one message, personalised"
    rows = s.fallback_rows()
    assert sorted(r["msisdn"] for r in rows) == sorted(not_rcs)
    for r in rows:
        assert r["text"] == f"{_text(r['msisdn'])}\n1. Shop: https://example.com/s"
        assert r["reason"] == "not RCS-capable"
    f = funnel(await CampaignSends(s.store).campaign_counts(s.campaign.id))
    assert (f.sent, f.not_rcs, f.fallen_back, f.waiting) == (
        len(rcs), len(not_rcs), len(not_rcs), 0,
    )  # fmt: skip
    campaign = await s.store.campaigns.get_campaign(s.campaign.id)
    assert campaign is not None and campaign.status.value == "done"


CHECKS = {  # the capability requests for NUMBERS: (method, URL marker, answer statuses)
    # one bulk job (POST, then GETs poll for its result)
    "orange": ("POST", "/bulkContactCapabilities", [202]),
    "smsbox": ("POST", "/SMSBOXDEMO0001/capabilities", [200]),  # one bulk request
    "google": ("POST", "/v1/users:batchGet", [200]),  # one bulk request
    # no bulk check: one per distinct number, 404 for the one without RCS
    "maap": ("GET", "/contactCapabilities", [200, 200, 404, 200, 200]),
}
SENDS = {
    "orange": "/bot/v1/bothub-demo-bot/messages",
    "smsbox": "/SMSBOXDEMO0001/message",
    "maap": "/bot/v1/maap-demo-bot/messages",
    "google": "/agentMessages",
}


@contextlib.asynccontextmanager
async def _webhook(store: Store, kind: str, port: int) -> AsyncIterator[None]:
    """The campaign webhook (``rcskit campaign webhook``) on 127.0.0.1:``port``."""
    server = uvicorn.Server(
        uvicorn.Config(webhook_app(store, kind), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        await serving


@pytest.mark.parametrize("kind", ["orange", "smsbox", "maap", "google"])
async def test_a_campaign_reaches_each_recipient_once(tmp_path: Path, kind: str) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/webhook"
    async with (
        _setup(tmp_path, kind, NUMBERS, webhook=hook, night=kind == "orange") as s,
        _webhook(s.store, kind, port),
    ):
        s.state.start()  # delivery and read timers, webhooks
        summary = await s.runner().run()
        assert summary.finished and summary.progress.sent == len(RCS)
        await _assert_finished(s, RCS, [NOT_RCS], lines=len(NUMBERS))

        method, marker, answers = CHECKS[kind]
        checks = [e for e in s.api_calls(marker) if e.method == method]
        assert sorted(e.status for e in checks) == sorted(answers)
        if kind == "maap":
            assert {e.phone for e in checks if e.status == 404} == {NOT_RCS}
        sends = [e for e in s.api_calls(SENDS[kind]) if e.method == "POST"]
        assert len(sends) == len(RCS) and all(200 <= (e.status or 0) < 300 for e in sends)
        if kind == "google":  # our id is Google's messageId: the idempotency key
            stored = await s.store.messages.find_messages(campaign=s.campaign.id, limit=100)
            assert {m.id for m in stored} == set(s.state.messages[BOTS[kind]])

        for _ in range(200):  # statuses come back through the campaign webhook
            f = funnel(await CampaignSends(s.store).campaign_counts(s.campaign.id))
            if f.displayed == len(RCS):
                break
            await asyncio.sleep(0.05)
        assert (f.sent, f.delivered, f.displayed) == (len(RCS),) * 3


async def test_orange_checks_in_bulk_only_in_its_night_window(tmp_path: Path) -> None:
    async with _setup(tmp_path, "orange", NUMBERS) as s:
        now = s.state.now()
        local = now.astimezone(PARIS)
        noon = datetime(local.year, local.month, local.day, 12, 0, tzinfo=PARIS)
        s.state.clock.offset_s = (noon - now).total_seconds()
        notes: list[str] = []
        summary = await s.runner(options=RunOptions(wait=False), notify=notes.append).run()
        assert not summary.finished and summary.progress.deferred == 5
        assert s.api_calls("/bulkContactCapabilities") == [] and s.api_calls("/messages") == []
        assert s.api_calls("/contactCapabilities") == [], "no unitary check for a campaign"
        window = datetime(local.year, local.month, local.day, 22, 0, tzinfo=PARIS)
        queued = await s.store.campaigns.get_recipients(
            s.campaign.id, status=RecipientStatus.QUEUED
        )
        assert len(queued) == 5 and {r.due_at for r in queued} == {window}
        assert any(f"scheduled for {window.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in n for n in notes)

        s.state.clock.offset_s += (window - noon).total_seconds() + 60  # 22:01 in Paris
        summary = await s.runner().run()
        assert summary.finished
        await _assert_finished(s, RCS, [NOT_RCS], lines=len(NUMBERS))
        bulk = [e for e in s.api_calls("/bulkContactCapabilities") if e.method == "POST"]
        assert [e.status for e in bulk] == [202]


async def test_orange_refusing_at_the_window_end_defers_to_the_next_window(
    tmp_path: Path,
) -> None:
    """The runner's clock says 06:59:30 in Paris, the client's a minute later: the client
    refuses the bulk check (OutsideAllowedWindow, next window in Paris time); the recipients
    wait for the next 22:00 Paris, and the note gives that time in UTC."""
    async with _setup(tmp_path, "orange", NUMBERS, client_ahead_s=60) as s:
        now = s.state.now()
        local = now.astimezone(PARIS)
        end = datetime(local.year, local.month, local.day, 6, 59, 30, tzinfo=PARIS)
        s.state.clock.offset_s = (end - now).total_seconds()
        notes: list[str] = []
        summary = await s.runner(options=RunOptions(wait=False), notify=notes.append).run()
        assert not summary.finished and s.api_calls("/bulkContactCapabilities") == []
        window = datetime(local.year, local.month, local.day, 22, 0, tzinfo=PARIS)
        queued = await s.store.campaigns.get_recipients(
            s.campaign.id, status=RecipientStatus.QUEUED
        )
        assert len(queued) == 5 and {r.due_at for r in queued} == {window}
        assert any(f"scheduled for {window.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in n for n in notes)


async def test_smsbox_checks_at_most_500_numbers_per_call(tmp_path: Path) -> None:
    population = PhoneRangeConfig(prefix="+1555", count=1001, rcs_ratio=0.05, seed="e2e")
    numbers = [f"+1555{i:07d}" for i in range(1001)]
    async with _setup(tmp_path, "smsbox", numbers, ranges=[population]) as s:
        summary = await s.runner().run()
        assert summary.finished
        phones = s.state.phones
        rcs = [n for n in numbers if phones.get(n).rcs]
        assert 0 < len(rcs) < 200
        checks = s.api_calls("/capabilities")
        assert [e.status for e in checks] == [200, 200, 200], "500 + 500 + 1 numbers"
        await _assert_finished(s, rcs, sorted(set(numbers) - set(rcs)), lines=len(numbers))


class _LostAnswer:
    """Passes every request on; the answer to the first send (a POST to a URL with
    ``marker``) is lost on the way back: the provider took the message, the runner hears
    nothing, as after a crash right after the call."""

    def __init__(self, inner: Transport, marker: str) -> None:
        self.inner = inner
        self.marker = marker
        self.lost: HttpRequest | None = None

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        response = await self.inner.send(request, timeout)
        if self.lost is None and request.method == "POST" and self.marker in request.url:
            self.lost = request
            raise TransportError(f"POST {request.url}: no answer within {timeout:g} s")
        return response

    async def close(self) -> None:
        await self.inner.close()


@pytest.mark.parametrize("kind", ["google", "orange", "smsbox", "maap"])
async def test_a_lost_answer_is_resent_only_under_an_idempotency_key(
    tmp_path: Path, kind: str
) -> None:
    """Google RBM deduplicates on ``messageId`` (our deterministic id): the runner resends and
    Google answers with the earlier message. The others assign their own ids: the recipient is
    ``unknown`` and not resent. Either way the phone has exactly one message."""

    def wrap(inner: Transport) -> Transport:
        return _LostAnswer(inner, SENDS[kind])

    async with _setup(tmp_path, kind, NUMBERS, night=kind == "orange", wrap=wrap) as s:
        summary = await s.runner().run()
        assert summary.finished
        delivered = s.delivered()
        assert set(delivered) == set(RCS) and all(len(t) == 1 for t in delivered.values())
        sends = [e for e in s.api_calls(SENDS[kind]) if e.method == "POST"]
        twice = {n for n, c in Counter(e.phone for e in sends).items() if c > 1}
        counts = await s.store.campaigns.count_recipients(s.campaign.id)
        f = funnel(await CampaignSends(s.store).campaign_counts(s.campaign.id))
        if kind == "google":
            assert len(twice) == 1 and len(sends) == len(RCS) + 1
            assert all(e.status == 200 for e in sends), "the resend is answered, not refused"
            assert counts[RecipientStatus.SENT] == len(RCS) and f.unknown == 0
            (number,) = twice
            (again,) = await s.store.messages.find_messages(campaign=s.campaign.id, to=number)
            assert again.attempts == 2 and again.id in s.state.messages[BOTS[kind]]
        else:
            assert twice == set() and len(sends) == len(RCS)
            assert counts[RecipientStatus.SENT] == len(RCS) - 1
            assert counts[RecipientStatus.UNKNOWN] == 1 and f.unknown == 1
            ((_, number),) = f.unknown_lines
            assert number in RCS
        assert counts[RecipientStatus.FALLBACK] == 1


def test_the_command_line_runs_a_google_rbm_campaign(
    tmp_path: Path, emulator_factory: Callable[[str], EmulatorServer]
) -> None:
    """``rcskit campaign create/run/status/report`` with a ``kind = "google"`` provider of
    ``rcskit.toml``, against the emulator served on 127.0.0.1 (aiohttp, the real clock)."""
    private, _ = rsa_key_pair()
    (tmp_path / "agent.pem").write_text(private, encoding="utf-8")
    agent, email = "rbm-e2e-agent", "rbm-e2e@rcskit-tests.iam.gserviceaccount.com"
    phones = "".join(
        f'[[phones]]\nnumber = "{n}"\nrcs = {str(n != NOT_RCS).lower()}\n'
        "delivered_delay_s = 0.05\ndisplayed_delay_s = 0.1\n"
        for n in [*RCS, NOT_RCS]
    )
    server = emulator_factory(
        f"""[[bots]]
id = "{agent}"
provider = "google"
client_id = "{email}"
private_key_path = "{tmp_path / "agent.pem"}"
tps = 100000
{phones}"""
    )
    key = {"type": "service_account", "client_email": email, "private_key": private,
           "token_uri": "https://oauth2.googleapis.com/token"}  # fmt: skip
    (tmp_path / "sa.json").write_text(json.dumps(key), encoding="utf-8")
    (tmp_path / "rcskit.toml").write_text(
        f"""[providers.rbm]
kind = "google"
agent_id = "{agent}"
api_url = "{server.base}/google"
token_url = "{server.base}/google/token"
service_account_file = "sa.json"
""",
        encoding="utf-8",
    )
    (tmp_path / "msg.json").write_text(json.dumps(MESSAGE), encoding="utf-8")
    db = ["--database", str(tmp_path / "c.db")]
    created = CLI.invoke(
        cli_app,
        ["campaign", "create", "--name", "rbm", "--provider", "rbm", "--config",
         str(tmp_path / "rcskit.toml"), "--csv", str(_write_csv(tmp_path / "r.csv", NUMBERS)),
         "--message", str(tmp_path / "msg.json"), "--tps", "200", "--id", "rbm1",
         "--fallback", f"csv:{tmp_path / 'fallback.csv'}", *db],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "campaign rbm1 created: 5 recipient(s), 0 invalid, 1 duplicate(s)" in created.output
    ran = CLI.invoke(cli_app, ["campaign", "run", "rbm1", "--no-progress", *db])
    assert ran.exit_code == 0, ran.output
    assert (
        "campaign rbm1: finished" in ran.output and "4 sent, 0 failed, 1 fallen back" in ran.output
    )
    status = CLI.invoke(cli_app, ["campaign", "status", "rbm1", *db])
    assert status.exit_code == 0 and "done, provider rbm" in status.output
    assert "unknown outcome: 0" in status.output
    report = CLI.invoke(cli_app, ["campaign", "report", "rbm1", "--out", str(tmp_path), *db])
    assert report.exit_code == 0, report.output
    rows = dict(re.findall(r"│ ([a-zA-Z ]+?) +│ +(\d+) │", report.output))
    assert {k: rows[k] for k in ("sent", "not RCS", "fallen back", "duplicates")} == {
        "sent": "4", "not RCS": "1", "fallen back": "1", "duplicates": "1",
    }  # fmt: skip
    assert (tmp_path / "rbm1-report.html").exists() and (tmp_path / "rbm1-report.png").exists()

    for number in RCS:  # the emulator's own record
        found = asyncio.run(server.get(f"/phones/{number}/conversation", bot_id=agent))
        (conversation,) = found["conversations"]
        texts = [m["content"]["text"] for m in conversation["messages"] if m["direction"] == "a2p"]
        assert texts == [_text(number)]
    found = asyncio.run(server.get(f"/phones/{NOT_RCS}/conversation", bot_id=agent))
    assert found["conversations"] == []
    with (tmp_path / "fallback.csv").open(encoding="utf-8", newline="") as handle:
        assert [r["msisdn"] for r in csv.DictReader(handle)] == [NOT_RCS]
