"""The emulator's configuration: bots, phones (explicit and generated ranges), delivery settings.

Load it from TOML with :func:`load_config` or start from :func:`default_config`::

    [[bots]]
    id = "OsOsQ0GwNvUdLTV9Bd"
    provider = "dotgo"                  # the provider flavour: API surface + webhook shapes
    client_id = "dotgo-demo-client"     # client_secret is generated when absent
    webhook_url = "http://127.0.0.1:9000/webhook"
    tps = 50                            # Dotgo group 1 (seed 002 section 6)

    [bots.templates.template_123]
    kind = "text"
    params = ["name"]
    content = { textMessage = "Hello {name}" }

    [[phones]]
    number = "+14251234567"

    [[phone_ranges]]                    # 100 000 numbers without 100 000 objects
    prefix = "+1555"
    count = 100000
    rcs_ratio = 0.9

Other providers' bots (see :data:`PROVIDERS`)::

    [[bots]]
    id = "bothub-demo-bot"              # Orange BotHub: client_id/secret are the Orange
    provider = "orange"                 # Developer app; the bot's RS256 JWTs verify
    client_id = "orange-demo-app"       # against public_key (PEM). Without public_key a
    private_key_path = "orange-bot.pem" # key pair is generated (and the private key written
                                        # there, or read from there when the file exists)
    [[bots]]
    id = "SMSBOXDEMO0001"               # SMSBOX: Authorization: App <api_key>
    provider = "smsbox"
    client_id = "smsbox-demo-account"
    api_key = "..."                     # generated when absent

Config models are validated when built; a bad value raises :class:`EmulatorConfigError` naming
the field. Client secrets, API keys, tokens and private keys are :class:`pydantic.SecretStr`
and never appear in reprs or logs.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal, Self

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "DEFAULT_GOOGLE_FEATURES",
    "DEFAULT_GSMA_FEATURES",
    "KEYED_PROVIDERS",
    "PROVIDERS",
    "BotConfig",
    "CurfewConfig",
    "EmulatorConfig",
    "EmulatorConfigError",
    "FaultConfig",
    "MaapErrorConfig",
    "PhoneConfig",
    "PhoneRangeConfig",
    "TemplateConfig",
    "WebhookConfig",
    "default_config",
    "load_config",
    "parse_config",
    "placeholders",
    "rsa_key_pair",
]

PROVIDERS: tuple[str, ...] = ("dotgo", "dotgo_google", "orange", "smsbox", "maap", "google")
"""Bot provider flavours the emulator knows (each has a flavour module)."""

KEYED_PROVIDERS: tuple[str, ...] = ("orange", "google")
"""Providers whose bots authenticate with an RS256-signed JWT (an RSA key pair per bot)."""

DEFAULT_GSMA_FEATURES: tuple[str, ...] = (
    "chatBotCommunication",
    "chat",
    "fileTransfer",
    "geolocationPush",
)
"""GSMA capability names a default RCS phone reports (seed 002 section 2.3)."""

DEFAULT_GOOGLE_FEATURES: tuple[str, ...] = (
    "REVOCATION",
    "RICHCARD_STANDALONE",
    "RICHCARD_CAROUSEL",
    "ACTION_CREATE_CALENDAR_EVENT",
    "ACTION_DIAL",
    "ACTION_OPEN_URL",
    "ACTION_SHARE_LOCATION",
    "ACTION_VIEW_LOCATION",
)
"""Google feature names a default RCS phone reports (seed 002 section 3.5)."""

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_BOT_ID = re.compile(r"^[A-Za-z0-9_.@:\-]{1,128}$")


class EmulatorConfigError(ValueError):
    """The emulator configuration is invalid; the message names every bad field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _e164(value: str, field: str) -> str:
    if not isinstance(value, str) or not E164.match(value):
        raise ValueError(f"{field} {value!r} is not an E.164 number (+ then 7 to 15 digits)")
    return value


def placeholders(value: Any) -> set[str]:
    """Every ``{name}`` placeholder in the strings of a JSON-like value."""
    found: set[str] = set()
    if isinstance(value, str):
        found.update(_PLACEHOLDER.findall(value))
    elif isinstance(value, dict):
        for item in value.values():
            found |= placeholders(item)
    elif isinstance(value, list):
        for item in value:
            found |= placeholders(item)
    return found


class TemplateConfig(_Config):
    """A registered Dotgo template (seed 002 section 5).

    ``content`` is the GSMA ``RCSMessage`` body (``textMessage`` or ``richcardMessage``, with
    optional ``suggestedChipList``) where ``{param}`` marks a substitution; ``params`` lists the
    parameters a send must supply in ``customParams`` (400-A otherwise). An unapproved template
    is refused with 400-B.
    """

    approved: bool = True
    kind: Literal["text", "rich_card", "carousel"]
    content: dict[str, Any]
    params: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _content_matches_kind(self) -> Self:
        content = self.content
        if self.kind == "text":
            if not isinstance(content.get("textMessage"), str):
                raise ValueError("a text template needs content.textMessage (a string)")
        else:
            key = "generalPurposeCard" if self.kind == "rich_card" else "generalPurposeCardCarousel"
            message = content.get("richcardMessage", {})
            inner = message.get("message", {}) if isinstance(message, dict) else {}
            if not isinstance(inner, dict) or not isinstance(inner.get(key), dict):
                raise ValueError(
                    f"a {self.kind} template needs content.richcardMessage.message.{key}"
                )
        missing = placeholders(content) - set(self.params)
        if missing:
            raise ValueError(f"placeholders {sorted(missing)} are not declared in params")
        return self


class FaultConfig(_Config):
    """Fault injection for one bot's API calls: rates are probabilities in [0, 1].

    Draws are deterministic for a given ``seed``. ``latency_s`` is added to every call;
    a ``timeout`` fault holds the request ``timeout_s`` seconds then answers 504-A.
    """

    rate_429: float = Field(0.0, ge=0, le=1)
    rate_500: float = Field(0.0, ge=0, le=1)
    rate_502: float = Field(0.0, ge=0, le=1)
    rate_timeout: float = Field(0.0, ge=0, le=1)
    latency_s: float = Field(0.0, ge=0, le=60)
    timeout_s: float = Field(30.0, ge=0, le=600)
    seed: int = 0

    @model_validator(mode="after")
    def _total(self) -> Self:
        total = self.rate_429 + self.rate_500 + self.rate_502 + self.rate_timeout
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {total:.3f}, more than 1")
        return self


def rsa_key_pair() -> tuple[str, str]:
    """A fresh 2048-bit RSA key pair as ``(private PEM, public PEM)`` (PKCS#8 / SPKI)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _pems(key)


def _pems(key: rsa.RSAPrivateKey) -> tuple[str, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def _public_of(private_pem: str, where: str) -> str:
    try:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{where} is not an RSA private key")
    return _pems(key)[1]


def _check_public(public_pem: str) -> str:
    try:
        key = serialization.load_pem_public_key(public_pem.encode())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"public_key is not a PEM public key ({exc})") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("public_key is not an RSA public key (RS256 needs RSA)")
    return public_pem


def _key_from_file(path: str) -> tuple[str, str]:
    """Read the private key at ``path``, or create one there (mode 0600) when it is absent."""
    target = Path(path)
    if target.exists():
        try:
            private = target.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"private_key_path {path!r}: cannot read ({exc.strerror})") from None
        return private, _public_of(private, f"private_key_path {path!r}")
    private, public = rsa_key_pair()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(private)
    except OSError as exc:
        raise ValueError(f"private_key_path {path!r}: cannot write ({exc.strerror})") from None
    return private, public


@functools.lru_cache(maxsize=16)
def _demo_key(bot_id: str) -> tuple[str, str]:
    """The default config's key pair for ``bot_id``, made once per process."""
    return rsa_key_pair()


class CurfewConfig(_Config):
    """Daily hours when sends are refused with 503-A, in the bot's local time."""

    start: time
    end: time
    utc_offset_minutes: int = Field(0, ge=-14 * 60, le=14 * 60)


class BotConfig(_Config):
    """One bot (agent) registered on the emulated platform.

    Provider-specific credentials: ``client_id``/``client_secret`` are the OAuth client
    (Dotgo, MaaP; the Orange Developer application; for ``google`` the service account's
    ``client_email`` is ``client_id``). ``api_key`` is the SMSBOX key (``Authorization: App``).
    ``static_token`` is a MaaP bearer token that never expires. ``webhook_token`` goes with
    webhooks: MaaP and Orange send it as the ``Authorization`` header, Google signs with it
    (the client token of ``X-Goog-Signature``). ``public_key`` (PEM) verifies the bot's RS256
    JWTs (Orange) or service-account assertions (Google). ``account_id`` is the SMSBOX
    ``clientId``; ``capability_tpm`` limits Orange's unitary capability checks per minute;
    ``anonymous_contacts`` makes MaaP webhooks carry a ``chatId`` instead of the number.
    ``strictness``: ``strict`` (default) refuses message bodies the real platform refuses
    (checked with rcskit's validators, answered in the provider's error format); ``lenient``
    keeps only the emulator's structural checks.
    """

    id: str
    provider: str
    name: str = "Demo bot"
    agent_id: str | None = None
    client_id: str
    client_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(24)))
    webhook_url: str | None = None
    launched: bool = True
    testers: list[str] = Field(default_factory=list)
    tps: float = Field(50.0, gt=0)
    tpm: int = Field(60, gt=0)
    token_tpm: int = Field(60, gt=0)
    templates: dict[str, TemplateConfig] = Field(default_factory=dict)
    balance: int | None = Field(None, ge=0)
    monthly_message_limit: int | None = Field(None, ge=0)
    blocked_for_spam: bool = False
    client_active: bool = True
    allowed_ips: list[str] | None = None
    require_template_outside_conversation: bool = False
    test_template_limit: int | None = Field(None, ge=0)
    curfew: CurfewConfig | None = None
    trans24: bool = False
    billing_events: bool = True
    maaps: list[str] = Field(default_factory=lambda: ["dotgo"])
    maaps_without_bulk: list[str] = Field(default_factory=lambda: ["telcel"])
    faults: FaultConfig = Field(default_factory=FaultConfig)
    api_key: SecretStr | None = None
    static_token: SecretStr | None = None
    webhook_token: SecretStr | None = None
    public_key: str | None = None
    private_key: SecretStr | None = None
    private_key_path: str | None = None
    account_id: int = Field(12123, ge=0)
    capability_tpm: int = Field(60, gt=0)
    anonymous_contacts: bool = False
    strictness: Literal["strict", "lenient"] = "strict"

    @model_validator(mode="before")
    @classmethod
    def _credentials(cls, data: Any) -> Any:
        """Generate what a provider needs and the config left out: the SMSBOX API key, the
        Google client token, and for Orange/Google bots the RSA key pair (from
        ``private_key``, from or into ``private_key_path``, or fresh)."""
        if not isinstance(data, dict):
            return data
        provider = data.get("provider")
        out = dict(data)
        if provider == "smsbox" and out.get("api_key") is None:
            out["api_key"] = SecretStr(secrets.token_urlsafe(24))
        if provider == "google" and out.get("webhook_token") is None:
            out["webhook_token"] = SecretStr(secrets.token_urlsafe(24))
        if provider in KEYED_PROVIDERS and out.get("public_key") is None:
            private = out.get("private_key")
            if isinstance(private, SecretStr):
                private = private.get_secret_value()
            if isinstance(private, str):
                out["public_key"] = _public_of(private, "private_key")
            elif isinstance(out.get("private_key_path"), str):
                private, out["public_key"] = _key_from_file(out["private_key_path"])
                out["private_key"] = SecretStr(private)
            else:
                private, out["public_key"] = rsa_key_pair()
                out["private_key"] = SecretStr(private)
        return out

    @field_validator("public_key")
    @classmethod
    def _public_key(cls, v: str | None) -> str | None:
        return None if v is None else _check_public(v)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _BOT_ID.match(v):
            raise ValueError(f"bot id {v!r} must be 1-128 of A-Z a-z 0-9 _ . @ : -")
        return v

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str) -> str:
        if v not in PROVIDERS:
            raise ValueError(f"provider {v!r} is not one of {', '.join(PROVIDERS)}")
        return v

    @field_validator("testers")
    @classmethod
    def _testers(cls, v: list[str]) -> list[str]:
        return [_e164(n, "tester") for n in v]

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"webhook_url {v!r} must be an http(s) URL")
        return v

    @property
    def google_agent_id(self) -> str:
        """The ``agentId`` Google-shaped webhooks carry (``<id>_agent@rbm.goog`` by default)."""
        return self.agent_id or f"{self.id.lower()}_agent@rbm.goog"

    def secret_credentials(self) -> dict[str, str]:
        """Every secret this bot has, by name (for ``--show-credentials`` only, never logs)."""
        found = {
            "client_secret": self.client_secret,
            "api_key": self.api_key,
            "static_token": self.static_token,
            "webhook_token": self.webhook_token,
            "private_key": self.private_key,
        }
        return {k: v.get_secret_value() for k, v in found.items() if v is not None}


class MaapErrorConfig(_Config):
    """An error the phone's MaaP returns for every message (seed 002 section 7, 4xx/5xx-MXX)."""

    code: str
    text: str

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not re.match(r"^(400|409|429|502)-M\d{2}$", v):
            raise ValueError(
                f"maap_error code {v!r} must look like 400-M01, 409-M12, 429-M04, 502-M01"
            )
        return v


class _PhoneProfile(_Config):
    rcs: bool = True
    features: list[str] = Field(default_factory=lambda: list(DEFAULT_GSMA_FEATURES))
    google_features: list[str] = Field(default_factory=lambda: list(DEFAULT_GOOGLE_FEATURES))
    delivered_delay_s: float = Field(1.0, ge=0)
    displayed_delay_s: float | None = Field(3.0, ge=0)
    carrier_id: str | None = None


class PhoneConfig(_PhoneProfile):
    """One simulated phone.

    ``opted_out`` lists the bot ids the user blocked (``"*"`` for all: 403-B); an offline phone
    queues messages until it comes online; ``displayed_delay_s = None`` means the user never
    reads automatically (the admin API or web UI marks messages read).
    """

    number: str
    online: bool = True
    opted_out: list[str] = Field(default_factory=list)
    maap_error: MaapErrorConfig | None = None

    @field_validator("number")
    @classmethod
    def _number(cls, v: str) -> str:
        return _e164(v, "number")


class PhoneRangeConfig(_PhoneProfile):
    """A generated population: ``prefix`` + ``digits`` digits, numbers ``start .. start+count-1``.

    Whether a number is RCS (``rcs_ratio``) and online (``online_ratio``) is decided by a
    deterministic hash of the number and ``seed``, so the same config always yields the same
    population and no per-number object exists until a number is changed through the admin API.
    """

    prefix: str
    count: int = Field(gt=0, le=1_000_000_000)
    digits: int = Field(7, ge=1, le=12)
    start: int = Field(0, ge=0)
    rcs_ratio: float = Field(1.0, ge=0, le=1)
    online_ratio: float = Field(1.0, ge=0, le=1)
    seed: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if not re.match(r"^\+[1-9]\d*$", self.prefix):
            raise ValueError(f"prefix {self.prefix!r} must be + and digits")
        total = len(self.prefix) - 1 + self.digits
        if not 7 <= total <= 15:
            raise ValueError(f"prefix + digits gives {total}-digit numbers; E.164 allows 7 to 15")
        if self.start + self.count > 10**self.digits:
            raise ValueError(f"start + count exceeds the {self.digits}-digit space")
        return self


class WebhookConfig(_Config):
    """How webhooks are delivered: attempts with exponential backoff, timeout, concurrency."""

    attempts: int = Field(5, ge=1, le=100)
    base_delay_s: float = Field(1.0, ge=0)
    max_delay_s: float = Field(60.0, ge=0)
    timeout_s: float = Field(10.0, gt=0)
    concurrency: int = Field(64, ge=1)


class EmulatorConfig(_Config):
    """The whole emulator configuration."""

    bots: list[BotConfig] = Field(default_factory=list)
    phones: list[PhoneConfig] = Field(default_factory=list)
    phone_ranges: list[PhoneRangeConfig] = Field(default_factory=list)
    webhook: WebhookConfig = Field(default_factory=WebhookConfig)
    request_log_size: int = Field(10_000, ge=10)
    conversation_window_s: float = Field(86_400.0, gt=0)
    file_validity_days: float = Field(60.0, gt=0)
    file_storage_limit_bytes: int = Field(256 * 1024 * 1024, ge=0)
    max_file_bytes: int = Field(100 * 1000 * 1000, ge=1)
    max_message_bytes: int = Field(256 * 1024, ge=1)
    typing_timeout_s: float = Field(20.0, gt=0)
    unknown_numbers_rcs: bool = False

    @model_validator(mode="after")
    def _unique(self) -> Self:
        for label, values in (
            ("bot id", [b.id for b in self.bots]),
            ("client_id", [b.client_id for b in self.bots]),
            ("phone number", [p.number for p in self.phones]),
        ):
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate {label}: {', '.join(dupes)}")
        return self

    def bot(self, bot_id: str) -> BotConfig | None:
        """The bot with this id, or ``None``."""
        return next((b for b in self.bots if b.id == bot_id), None)


def _errors(err: ValidationError) -> str:
    lines = []
    for item in err.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def load_config(path: str | Path) -> EmulatorConfig:
    """Read an emulator config from a TOML file.

    Raises :class:`EmulatorConfigError` naming the file and every invalid field.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EmulatorConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise EmulatorConfigError(f"{path}: not valid TOML ({exc})") from exc
    return parse_config(data, source=str(path))


def parse_config(data: dict[str, Any], source: str = "config") -> EmulatorConfig:
    """Validate a config mapping (as TOML would give it) into an :class:`EmulatorConfig`."""
    try:
        return EmulatorConfig.model_validate(data)
    except ValidationError as exc:
        raise EmulatorConfigError(f"{source}: {_errors(exc)}") from None


def _demo_templates() -> dict[str, TemplateConfig]:
    card = {
        "richcardMessage": {
            "message": {
                "generalPurposeCard": {
                    "layout": {"cardOrientation": "VERTICAL"},
                    "content": {
                        "media": {
                            "mediaUrl": "https://example.com/offer.png",
                            "mediaContentType": "image/png",
                            "height": "MEDIUM_HEIGHT",
                        },
                        "title": "{offer} for {name}",
                        "description": "Valid until {until}.",
                        "suggestions": [
                            {"reply": {"displayText": "Yes", "postback": {"data": "offer_yes"}}},
                            {
                                "action": {
                                    "displayText": "Call us",
                                    "postback": {"data": "offer_call"},
                                    "dialerAction": {
                                        "dialPhoneNumber": {"phoneNumber": "+15556667777"}
                                    },
                                }
                            },
                        ],
                    },
                }
            }
        }
    }
    carousel = {
        "richcardMessage": {
            "message": {
                "generalPurposeCardCarousel": {
                    "layout": {"cardWidth": "MEDIUM_WIDTH"},
                    "content": [
                        {
                            "title": "What is RCS",
                            "description": "Messaging with rich features, {name}.",
                            "suggestions": [
                                {"reply": {"displayText": "Menu", "postback": {"data": "menu"}}}
                            ],
                        },
                        {
                            "title": "Reach us",
                            "description": "We answer within the hour.",
                            "suggestions": [
                                {
                                    "action": {
                                        "displayText": "Reach Us",
                                        "postback": {"data": "user_clicked_Reach_Us"},
                                        "urlAction": {"openUrl": {"url": "https://example.com"}},
                                    }
                                }
                            ],
                        },
                    ],
                }
            }
        }
    }
    return {
        "template_123": TemplateConfig(
            kind="text", params=["name"], content={"textMessage": "Hello {name}, welcome to RCS!"}
        ),
        "spring_offer": TemplateConfig(
            kind="rich_card", params=["name", "offer", "until"], content=card
        ),
        "test template": TemplateConfig(kind="carousel", params=["name"], content=carousel),
        "awaiting_approval": TemplateConfig(
            kind="text", approved=False, content={"textMessage": "Not approved yet"}
        ),
    }


DEMO_CLIENT_SECRET = "rcskit-emulator-demo-secret"
"""The Dotgo demo bots' client secret in ``rcskit emulator``'s default set-up (a local tool bound
to 127.0.0.1; ``--client-secret`` or ``RCSKIT_EMULATOR_CLIENT_SECRET`` replaces it), so that the
``emulator`` provider of ``rcskit.toml`` works against a freshly started emulator."""


def default_config(dotgo_secret: str | None = None) -> EmulatorConfig:
    """The built-in configuration ``rcskit emulator`` uses without ``--config``.

    Two Dotgo bots (GSMA flavour ``OsOsQ0GwNvUdLTV9Bd`` and a Google-flavour bot) whose client
    secret is ``dotgo_secret`` (freshly generated when ``None``), with demo templates; one bot
    for each other provider (Orange BotHub with an RSA key pair, SMSBOX with an API key, a
    generic MaaP bot with a webhook token, a Google RBM agent with a service-account key and a
    client token); the phones used in the seeds' examples (RCS, non-RCS, offline, opted out)
    and a generated range of 100 000 ``+1555`` numbers, 90 % RCS. Key pairs are made once per
    process.
    """
    rcs_numbers = [
        "+14251234567",
        "+914253136789",
        "+919686960276",
        "+919686110276",
        "+919686960876",
        "+919976878767",
        "+919986473361",
    ]
    phones = [PhoneConfig(number=n) for n in rcs_numbers]
    phones.append(PhoneConfig(number="+916362412935", carrier_id="404045"))
    phones += [
        PhoneConfig(number=n, rcs=False)
        for n in ("+914253136788", "+919687895543", "+919688757768")
    ]
    phones.append(PhoneConfig(number="+14255550100", online=False))
    phones.append(PhoneConfig(number="+14255550122", opted_out=["*"]))
    bots = [
        BotConfig(
            id="OsOsQ0GwNvUdLTV9Bd",
            provider="dotgo",
            name="Dotgo demo bot",
            client_id="dotgo-demo-client",
            templates=_demo_templates(),
            client_secret=SecretStr(dotgo_secret or secrets.token_urlsafe(24)),
        ),
        BotConfig(
            id="GgL8dP2wXq4RtY7Zb1",
            provider="dotgo_google",
            name="Dotgo Google-API demo bot",
            client_id="dotgo-google-demo-client",
            templates=_demo_templates(),
            client_secret=SecretStr(dotgo_secret or secrets.token_urlsafe(24)),
        ),
    ]
    orange_private, orange_public = _demo_key("bothub-demo-bot")
    google_private, google_public = _demo_key("rcskit-demo-agent")
    bots += [
        BotConfig(
            id="bothub-demo-bot",
            provider="orange",
            name="Orange BotHub demo bot",
            client_id="orange-demo-app",
            public_key=orange_public,
            private_key=SecretStr(orange_private),
            token_tpm=50,
            capability_tpm=6,
        ),
        BotConfig(
            id="SMSBOXDEMO0001",
            provider="smsbox",
            name="SMSBOX",
            client_id="smsbox-demo-account",
        ),
        BotConfig(
            id="maap-demo-bot",
            provider="maap",
            name="MaaP demo bot",
            client_id="maap-demo-bot",
            webhook_token=SecretStr(secrets.token_urlsafe(24)),
        ),
        BotConfig(
            id="rcskit-demo-agent",
            provider="google",
            name="Google RBM demo agent",
            agent_id="rcskit-demo-agent@rbm.goog",
            client_id="rbm-demo@rcskit-demo.iam.gserviceaccount.com",
            public_key=google_public,
            private_key=SecretStr(google_private),
        ),
    ]
    return EmulatorConfig(
        bots=bots,
        phones=phones,
        phone_ranges=[PhoneRangeConfig(prefix="+1555", count=100_000, rcs_ratio=0.9)],
    )
