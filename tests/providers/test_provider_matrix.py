"""Every operation of every provider, three ways, against the in-process emulator.

One scenario per provider runs each operation the provider offers through the async
:class:`~rcskit.client.RcsClient` and through the blocking :class:`~rcskit.sync.SyncRcsClient`,
and checks the results against the emulator's own records (stored messages and their
statuses, conversations, files, testers). Then the same provider is driven through the CLI
(``rcskit send / status / revoke / capabilities / upload / tester add``) from a
``rcskit.toml`` naming all six providers with their emulator URLs and secrets in ``*_env``
variables. Every operation a provider does not offer must raise ``UnsupportedFeature`` (or
print its one-line error) before any request reaches the emulator.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import typer
from click.testing import Result
from typer.testing import CliRunner

from rcskit.cli.config import KINDS
from rcskit.cli.provider import register
from rcskit.client import RcsClient
from rcskit.emulator.app import create_app
from rcskit.emulator.config import BotConfig, default_config
from rcskit.emulator.core.records import A2P, FMT_GSMA, StoredMessage
from rcskit.emulator.core.state import EmulatorState
from rcskit.emulator.core.user_actions import send_text
from rcskit.errors import NotFound, ProviderError, UnsupportedFeature
from rcskit.message import Card, File, Media, Message, Reply, Template
from rcskit.providers import dotgo, dotgo_google, google_rbm, maap, orange, registry, smsbox
from rcskit.providers.base import OPERATIONS, ProviderConfig
from rcskit.providers.orange import OrangeConfig
from rcskit.providers.registry import ProviderSpec
from rcskit.sync import SyncRcsClient
from rcskit.transport import AsgiTransport, HttpRequest, HttpResponse

E = "http://emulator.test"
RCS_USER = "+914253136789"
OTHER_RCS_USER = "+919686110276"
NOT_RCS = "+914253136788"
NEW_TESTER = "+919686960276"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
PARIS = ZoneInfo("Europe/Paris")
CARD = Card(
    title="Spring sale",
    description="Everything 20% off until Sunday.",
    media=Media.image("https://example.com/sale.jpg"),
    suggestions=[Reply("Tell me more", "more")],
)
GSMA_CARD_FILE = {
    "RCSMessage": {
        "richcardMessage": {
            "message": {
                "generalPurposeCard": {
                    "layout": {"cardOrientation": "VERTICAL"},
                    "content": {
                        "title": "From a file",
                        "description": "A card read from --json",
                        "suggestions": [
                            {"reply": {"displayText": "Yes", "postback": {"data": "yes"}}}
                        ],
                    },
                }
            }
        }
    }
}

runner = CliRunner()


# ---------------------------------------------------------------- the platform


class DrivenTransport(AsgiTransport):
    """The emulator in-process; ``step`` seconds of platform time pass before each request
    (its timers run), for CLI commands that poll the platform (Orange's bulk check)."""

    def __init__(self, app: Any, step: float = 0.0) -> None:
        super().__init__(app)
        self.step = step

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        if self.step:
            await self.app.state.emulator.advance(self.step)
        return await super().send(request, timeout)


class Platform:
    """The emulator (default configuration: one bot per provider) and what it recorded."""

    def __init__(self) -> None:
        self.app = create_app(default_config())
        self.state: EmulatorState = self.app.state.emulator

    def bot(self, key: str) -> BotConfig:
        """The live bot of provider ``key`` (its testers change through the API)."""
        return next(b for b in self.state.bots.values() if b.provider == key)

    def api_requests(self) -> int:
        """API requests the emulator has served so far (token requests included)."""
        return sum(1 for e in self.state.log if e.kind == "api")

    def sent(self, key: str, message_id: str | None, to: str = RCS_USER) -> StoredMessage:
        """The message the bot of ``key`` sent as ``message_id`` (SMSBOX stores one message
        per recipient, ``<reference><number>``)."""
        assert message_id
        stored_id = f"{message_id}{to}" if key == "smsbox" else message_id
        found = self.state.find_message(self.bot(key).id, stored_id)
        assert found is not None, f"{key}: the emulator has no message {stored_id}"
        assert (found.phone, found.direction) == (to, A2P)
        return found

    def features(self, key: str, number: str) -> frozenset[str]:
        """The capability names the provider's API reports for ``number``'s phone."""
        phone = self.state.phones.get(number)
        assert phone is not None
        if key in ("google", "dotgo_google"):
            return frozenset(phone.google_features)
        if key == "smsbox":
            return frozenset({"chatBotCommunication", *phone.google_features})
        return frozenset(phone.features)

    def at_night(self) -> None:
        """Move the platform clock to 23:00 Paris time (Orange's bulk window)."""
        now = self.state.now()
        night = datetime(now.year, now.month, now.day, 23, 0, tzinfo=PARIS)
        self.state.clock.offset_s += (night - now).total_seconds()


@pytest.fixture
def platform() -> Platform:
    return Platform()


def text_of(msg: StoredMessage) -> str:
    content = msg.content_json()
    return str(content["textMessage"] if msg.fmt == FMT_GSMA else content["text"])


def postbacks(msg: StoredMessage) -> list[str]:
    content = msg.content_json()
    if msg.fmt == FMT_GSMA:
        return [s["reply"]["postback"]["data"] for s in content["suggestedChipList"]["suggestions"]]
    return [s["reply"]["postbackData"] for s in content["suggestions"]]


def card_title(msg: StoredMessage) -> str:
    content = msg.content_json()
    if msg.fmt == FMT_GSMA:
        return str(content["richcardMessage"]["message"]["generalPurposeCard"]["content"]["title"])
    return str(content["richCard"]["standaloneCard"]["cardContent"]["title"])


# ---------------------------------------------------------------- the providers


Settings = dict[str, Any]


def _dotgo_account(key: str, p: Platform) -> tuple[Settings, Settings]:
    b = p.bot(key)
    settings = {
        "bot_id": b.id,
        "client_id": b.client_id,
        "server_root": f"{E}/dotgo/rcs",
        "auth_url": f"{E}/dotgo/auth/oauth/token",
    }
    return settings, {"client_secret": b.client_secret.get_secret_value()}


def _maap_account(p: Platform) -> tuple[Settings, Settings]:
    b = p.bot("maap")
    return (
        {"server_root": f"{E}/maap", "bot_id": b.id},
        {"client_secret": b.client_secret.get_secret_value()},
    )


def _orange_account(p: Platform) -> tuple[Settings, Settings]:
    b = p.bot("orange")
    assert b.private_key is not None
    basic = base64.b64encode(f"{b.client_id}:{b.client_secret.get_secret_value()}".encode())
    settings = {
        "bot_id": b.id,
        "token_url": f"{E}/orange/oauth/v3/token",
        "api_url": f"{E}/orange/bothub/v1",
        "bulk_poll_interval": 0.01,
    }
    secrets = {
        "authorization_header": f"Basic {basic.decode()}",
        "private_key": b.private_key.get_secret_value(),
    }
    return settings, secrets


def _smsbox_account(p: Platform) -> tuple[Settings, Settings]:
    b = p.bot("smsbox")
    assert b.api_key is not None
    return (
        {"agent_id": b.id, "base_url": f"{E}/smsbox"},
        {"api_key": b.api_key.get_secret_value()},
    )


def _google_account(p: Platform) -> tuple[Settings, Settings]:
    b = p.bot("google")
    assert b.private_key is not None
    key_file = {
        "type": "service_account",
        "client_email": b.client_id,
        "private_key": b.private_key.get_secret_value(),
        "token_uri": f"{E}/google/token",
    }
    return (
        {"agent_id": b.google_agent_id, "api_url": f"{E}/google"},
        {"service_account": json.dumps(key_file)},
    )


def _no_extras(p: Platform) -> Settings:
    return {}


def _orange_extras(p: Platform) -> Settings:
    # the platform's clock signs the JWT and checks the window; polls sleep on platform time
    return {"clock": p.state.now, "bulk_poll_interval": 5.0}


@dataclass(frozen=True)
class Profile:
    """How to reach one provider's emulator bot, and what to expect from it."""

    key: str
    info: ProviderSpec
    account: Callable[[Platform], tuple[Settings, Settings]]
    """``rcskit.toml`` settings and secrets (the keyword arguments of the config class)."""
    extras: Callable[[Platform], Settings] = _no_extras
    """Config arguments a file cannot give (injected clocks)."""
    template: bool = False
    idle_typing: bool = True
    file_by_id: bool = False
    url_upload: bool = True
    night: bool = False
    revoke_delivered: str = "accepted"
    """A revoke of a delivered message: ``accepted`` (the result comes later), ``refused``
    (``accepted=False``), ``not_found`` (:class:`NotFound`) or ``error`` (another error)."""
    client_options: Callable[[Platform], Settings] = _no_extras

    def config(self, p: Platform) -> ProviderConfig:
        settings, secrets = self.account(p)
        return KINDS[self.key].build(**{**settings, **secrets, **self.extras(p)})


PROFILES = [
    Profile(
        "dotgo",
        dotgo.SPEC,
        partial(_dotgo_account, "dotgo"),
        template=True,
        revoke_delivered="accepted",
    ),
    Profile(
        "dotgo_google",
        dotgo_google.SPEC,
        partial(_dotgo_account, "dotgo_google"),
        template=True,
        idle_typing=False,
        file_by_id=True,
        url_upload=False,
        revoke_delivered="not_found",
    ),
    Profile("maap", maap.SPEC, _maap_account, revoke_delivered="error"),
    Profile(
        "orange",
        orange.SPEC,
        _orange_account,
        extras=_orange_extras,
        night=True,
        client_options=lambda p: {"sleep": p.state.advance},
    ),
    Profile("smsbox", smsbox.SPEC, _smsbox_account, revoke_delivered="refused"),
    Profile(
        "google",
        google_rbm.SPEC,
        _google_account,
        idle_typing=False,
        file_by_id=True,
        revoke_delivered="not_found",
    ),
]
BY_KEY = {p.key: p for p in PROFILES}


def test_the_matrix_names_every_provider_and_operation() -> None:
    assert sorted(BY_KEY) == sorted(KINDS) == list(registry.names())
    assert all(p.info.name == p.key for p in PROFILES)
    assert sorted(UNSUPPORTED_CALLS) == sorted(OPERATIONS)


# ---------------------------------------------------------------- one scenario, two clients

UNSUPPORTED_CALLS: Mapping[str, Callable[[Any], Any]] = {
    "send": lambda c: c.send(RCS_USER, "hello"),
    "send_many": lambda c: c.send_many([RCS_USER, OTHER_RCS_USER], "hello"),
    "send_typing": lambda c: c.send_typing(RCS_USER),
    "mark_read": lambda c: c.mark_read("m-1", RCS_USER),
    "status": lambda c: c.status("m-1"),
    "revoke": lambda c: c.revoke("m-1", RCS_USER),
    "capabilities": lambda c: c.capabilities(RCS_USER),
    "bulk_capabilities": lambda c: c.bulk_capabilities([RCS_USER, NOT_RCS]),
    "upload_file": lambda c: c.upload_file(PNG, mime_type="image/png"),
    "file_info": lambda c: c.file_info("f-1"),
    "delete_file": lambda c: c.delete_file("f-1"),
    "add_tester": lambda c: c.add_tester(NEW_TESTER),
}


class Call:
    """Runs one client call: awaits it (async client) or checks it already ran (sync
    facade, whose methods must block and return results, never awaitables)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    async def __call__(self, value: Any) -> Any:
        if self.mode == "async":
            assert inspect.isawaitable(value)
            return await value
        assert not inspect.isawaitable(value)
        return value


@asynccontextmanager
async def open_client(mode: str, profile: Profile, p: Platform) -> AsyncIterator[Any]:
    config = profile.config(p)
    options = {"transport": AsgiTransport(p.app), **profile.client_options(p)}
    if mode == "async":
        async with RcsClient(config, **options) as client:
            yield client
    else:
        with SyncRcsClient(config, **options) as sync_client:
            yield sync_client


async def exercise(profile: Profile, p: Platform, client: Any, call: Call) -> None:
    """Every operation ``profile`` offers, checked against the emulator's records."""
    key, state, bot = profile.key, p.state, p.bot(profile.key)
    inner = client.client if isinstance(client, SyncRcsClient) else client
    offers = inner.provider.offers
    assert offers == profile.info.operations  # what the README table says

    # send: a text with a suggested reply, a rich card, a template where offered
    sent = await call(client.send(RCS_USER, Message("hello", suggestions=[Reply("Yes", "yes")])))
    assert (sent.provider, sent.to) == (key, RCS_USER)
    assert sent.status in ("pending", "accepted")
    text = p.sent(key, sent.message_id)
    assert (text_of(text), postbacks(text), text.status) == ("hello", ["yes"], "pending")
    card = await call(client.send(RCS_USER, CARD))
    assert card_title(p.sent(key, card.message_id)) == "Spring sale"
    if profile.template:
        templated = await call(client.send(RCS_USER, Template("template_123", {"name": "Ada"})))
        stored = p.sent(key, templated.message_id)
        assert stored.template == "template_123"
        assert text_of(stored) == "Hello Ada, welcome to RCS!"
    else:  # no registered templates: refused before any request
        before = p.api_requests()
        with pytest.raises(UnsupportedFeature, match=f"template messages .* {key}"):
            await call(client.send(RCS_USER, Template("template_123", {"name": "Ada"})))
        assert p.api_requests() == before
    if "send_many" in offers:
        many = await call(
            client.send_many([RCS_USER, OTHER_RCS_USER], "hi all", validity_minutes=60)
        )
        assert {r.to for r in many.results} == {RCS_USER, OTHER_RCS_USER}
        for number in (RCS_USER, OTHER_RCS_USER):
            assert text_of(p.sent(key, many.message_id, number)) == "hi all"

    if "send_typing" in offers:
        await call(client.send_typing(RCS_USER))
        conversation = state.conversations[(bot.id, RCS_USER)]
        assert conversation.agent_typing_until > state.ts()
        if profile.idle_typing:
            await call(client.send_typing(RCS_USER, active=False))
            assert conversation.agent_typing_until == 0
        else:  # Google's API has no idle event: refused before any request
            before = p.api_requests()
            with pytest.raises(UnsupportedFeature, match="typing indicator off"):
                await call(client.send_typing(RCS_USER, active=False))
            assert p.api_requests() == before

    if "mark_read" in offers:
        incoming = send_text(state, bot.id, RCS_USER, "hi bot")
        assert incoming.displayed_at is None
        await call(client.mark_read(incoming.msg_id, RCS_USER))
        assert incoming.status == "displayed" and incoming.displayed_at is not None

    if "status" in offers:
        status = await call(client.status(sent.message_id))
        assert (status.message_id, status.status) == (sent.message_id, "pending")

    if "revoke" in offers:
        revoked = await call(client.revoke(sent.message_id, RCS_USER))
        assert revoked.accepted and revoked.message_id == sent.message_id
        assert text.status == "cancelled"
        if "status" in offers:
            assert (await call(client.status(sent.message_id))).status == "cancelled"

    await state.advance(5)  # the phone gets the card after 1 s and reads it after 3 s
    delivered = p.sent(key, card.message_id)
    assert delivered.status == "displayed"
    if "status" in offers:
        assert (await call(client.status(card.message_id))).status == "displayed"
    if "revoke" in offers:
        await check_late_revoke(profile, client, call, card.message_id)
        assert delivered.status == "displayed"  # a delivered message stays delivered

    caps = await call(client.capabilities(RCS_USER))
    assert (caps.provider, caps.number, caps.rcs_enabled) == (key, RCS_USER, True)
    assert caps.features == p.features(key, RCS_USER)
    assert not (await call(client.capabilities(NOT_RCS))).rcs_enabled

    if "bulk_capabilities" in offers:
        bulk = await call(client.bulk_capabilities([RCS_USER, NOT_RCS, RCS_USER]))
        assert (bulk.reachable, bulk.unreachable, bulk.unknown) == ({RCS_USER}, {NOT_RCS}, set())
    if inner.provider.bulk_job is not None:  # Orange: submit now, read the result later
        job = await call(client.submit_bulk_capabilities([RCS_USER, NOT_RCS]))
        assert job.numbers == (RCS_USER, NOT_RCS) and job.job_id
        assert await call(client.bulk_capabilities_result(job)) is None  # still processing
        await state.advance(5)
        done = await call(client.bulk_capabilities_result(job))
        assert (done.reachable, done.unreachable) == ({RCS_USER}, {NOT_RCS})
    else:
        before = p.api_requests()
        with pytest.raises(UnsupportedFeature, match="submit_bulk_capabilities"):
            await call(client.submit_bulk_capabilities([RCS_USER, NOT_RCS]))
        assert p.api_requests() == before

    if "upload_file" in offers:
        uploaded = await call(client.upload_file(PNG, mime_type="image/png", filename="a.png"))
        stored_file = state.files[uploaded.file_id.removeprefix("files/")]
        assert (stored_file.bot_id, stored_file.mime_type) == (bot.id, "image/png")
        assert stored_file.data == PNG
        if profile.file_by_id:  # the Google formats reference uploaded files by id
            by_id = await call(client.send(RCS_USER, File(file_id=uploaded.file_id)))
            assert uploaded.file_id in p.sent(key, by_id.message_id).content.decode()
        if "file_info" in offers:
            info = await call(client.file_info(uploaded.file_id))
            assert (info.file_id, info.size, info.status) == (uploaded.file_id, len(PNG), "ready")
            assert info.url is not None
            served = await AsgiTransport(p.app).send(HttpRequest("GET", info.url), 5)
            assert (served.status, served.body) == (200, PNG)
        url = "https://example.com/terms.pdf"
        if profile.url_upload:  # the provider fetches the file itself
            by_url = await call(client.upload_file(url))
            assert state.files[by_url.file_id.removeprefix("files/")].source_url == url
        else:
            before = p.api_requests()
            with pytest.raises(UnsupportedFeature, match="upload by URL"):
                await call(client.upload_file(url))
            assert p.api_requests() == before
        if "delete_file" in offers:
            await call(client.delete_file(uploaded.file_id))
            assert uploaded.file_id not in state.files
            with pytest.raises(NotFound):
                await call(client.file_info(uploaded.file_id))

    if "add_tester" in offers:
        assert NEW_TESTER not in bot.testers
        tester = await call(client.add_tester(NEW_TESTER))
        assert tester.number == NEW_TESTER and tester.status
        assert NEW_TESTER in p.bot(key).testers

    for op in sorted(set(OPERATIONS) - offers):
        before = p.api_requests()
        with pytest.raises(UnsupportedFeature) as refused:
            await call(UNSUPPORTED_CALLS[op](client))
        assert (refused.value.feature, refused.value.target) == (op, key)
        assert p.api_requests() == before, f"{key} {op} reached the emulator"


async def check_late_revoke(profile: Profile, client: Any, call: Call, message_id: str) -> None:
    expected = profile.revoke_delivered
    if expected in ("accepted", "refused"):
        late = await call(client.revoke(message_id, RCS_USER))
        assert late.accepted == (expected == "accepted")
    else:
        with pytest.raises(NotFound if expected == "not_found" else ProviderError):
            await call(client.revoke(message_id, RCS_USER))


@pytest.mark.parametrize("mode", ["async", "sync"])
@pytest.mark.parametrize("profile", PROFILES, ids=[p.key for p in PROFILES])
async def test_every_operation_through_the_client(
    profile: Profile, mode: str, platform: Platform
) -> None:
    if profile.night:
        platform.at_night()
    async with open_client(mode, profile, platform) as client:
        await exercise(profile, platform, client, Call(mode))


# ---------------------------------------------------------------- the command line


def write_rcskit_toml(path: Path, p: Platform) -> dict[str, str]:
    """A ``rcskit.toml`` naming every provider (``my_<kind>``); returns the environment
    holding their secrets."""
    lines: list[str] = []
    env: dict[str, str] = {}
    for profile in PROFILES:
        settings, secrets = profile.account(p)
        lines += [f"[providers.my_{profile.key}]", f'kind = "{profile.key}"']
        lines += [f"{name} = {json.dumps(value)}" for name, value in settings.items()]
        for name, value in secrets.items():
            variable = f"MY_{profile.key.upper()}_{name.upper()}"
            lines.append(f'{name}_env = "{variable}"')
            env[variable] = value
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return env


@pytest.mark.parametrize("profile", PROFILES, ids=[p.key for p in PROFILES])
def test_every_command_through_the_cli(
    profile: Profile, platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, name = profile.key, f"my_{profile.key}"
    offers = profile.info.operations
    monkeypatch.chdir(tmp_path)
    env = write_rcskit_toml(tmp_path / "rcskit.toml", platform)
    step = 0.0
    if profile.night:
        # The CLI signs Orange's JWT with the wall clock; the platform runs at 23:00 Paris time,
        # so the client built from the file gets the platform's clock (its only seam), and
        # platform time moves on between requests so that the bulk job completes.
        platform.at_night()
        build = partial(OrangeConfig, clock=platform.state.now)
        monkeypatch.setitem(KINDS, "orange", replace(KINDS["orange"], build=build))
        step = 2.0
    cli = typer.Typer()
    register(cli, transport=lambda: DrivenTransport(platform.app, step))

    def run(*args: str) -> Result:
        result = runner.invoke(cli, [*args, "--provider", name], env=env)
        assert "Traceback" not in result.output
        return result

    def ok(*args: str) -> list[str]:
        result = run(*args)
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()

    def refused(operation: str, *args: str) -> None:
        before = platform.api_requests()
        result = run(*args)
        assert result.exit_code == 1
        assert result.output.strip() == (
            f"error: {operation} is not supported by {key}: the provider does not offer this "
            "operation"
        )
        assert platform.api_requests() == before

    def send(*args: str) -> str:
        (line,) = ok("send", "--to", RCS_USER, *args)
        words = line.split()
        assert words[0] == "sent" and words[3:] == ["to", RCS_USER, "via", name], line
        assert words[2] in ("(pending)", "(accepted)")
        return words[1]

    message_id = send("--text", "hi", "--reply", "Yes:yes")
    stored = platform.sent(key, message_id)
    assert (text_of(stored), postbacks(stored)) == ("hi", ["yes"])

    body = tmp_path / "card.json"
    body.write_text(json.dumps(GSMA_CARD_FILE), encoding="utf-8")
    assert card_title(platform.sent(key, send("--json", str(body)))) == "From a file"

    if "status" in offers:
        (line,) = ok("status", message_id)
        assert line.startswith(f"{message_id}  pending at ")
    else:
        refused("status", "status", message_id)

    if "revoke" in offers:
        assert ok("revoke", message_id, "--to", RCS_USER) == [
            f"revocation of {message_id} accepted by {name}"
        ]
        assert stored.status == "cancelled"
        late = send("--text", "late")
        asyncio.run(platform.state.advance(5))  # delivered and read
        result = run("revoke", late, "--to", RCS_USER)
        if profile.revoke_delivered == "accepted":
            assert result.exit_code == 0 and "accepted" in result.stdout
        elif profile.revoke_delivered == "refused":
            assert result.exit_code == 1
            assert result.output.strip() == f"error: revocation of {late} refused by {name}"
        else:
            assert result.exit_code == 1 and result.output.startswith(f"error: [{key} ")
        assert platform.sent(key, late).status == "displayed"
    else:
        refused("revoke", "revoke", message_id, "--to", RCS_USER)

    features = ", ".join(sorted(platform.features(key, RCS_USER)))
    assert ok("capabilities", RCS_USER) == [f"{RCS_USER}  RCS  {features}"]
    assert ok("capabilities", NOT_RCS) == [f"{NOT_RCS}  not RCS"]
    numbers = tmp_path / "numbers.txt"
    numbers.write_text(f"# customers\n{RCS_USER}\n{NOT_RCS}\n", encoding="utf-8")
    if "bulk_capabilities" in offers:
        assert ok("capabilities", "--file", str(numbers)) == [
            f"{RCS_USER}  RCS",
            f"{NOT_RCS}  not RCS",
            f"1 RCS, 1 not RCS, 0 unknown ({key})",
        ]
    else:  # one unitary check per number
        assert ok("capabilities", "--file", str(numbers)) == [
            f"{RCS_USER}  RCS  {features}",
            f"{NOT_RCS}  not RCS",
        ]

    (tmp_path / "logo.png").write_bytes(PNG)
    if "upload_file" in offers:
        (line,) = ok("upload", "logo.png")
        stored_file = platform.state.files[line.split()[0].removeprefix("files/")]
        assert (stored_file.bot_id, stored_file.data) == (platform.bot(key).id, PNG)
    else:
        refused("upload_file", "upload", "logo.png")

    if "add_tester" in offers:
        (line,) = ok("tester", "add", NEW_TESTER)
        assert line.startswith(f"{NEW_TESTER}  ")
        assert NEW_TESTER in platform.bot(key).testers
    else:
        refused("add_tester", "tester", "add", NEW_TESTER)
