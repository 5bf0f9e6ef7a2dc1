"""Generic GSMA MaaP chatbot API (FNW.11), the API the ``rcs_chatbot`` SDK targets (seed 003).

Everything seed 003 documents, including what ``rcs_chatbot`` 0.0.6 left as empty stubs:
messages and typing (``POST {base}/messages``), status get/put (read receipt ``displayed``,
revoke ``cancelled``), ``contactCapabilities`` (by ``userContact`` or ``chatId``), files
(multipart upload of bytes or by URL, info, delete). ``{base}`` is
``{server_root}/bot/v1/{botId}`` (``api_path`` is configurable: some MaaPs serve
``/rcs/bot/v1``). Auth: OAuth 2.0 client credentials at ``{server_root}/oauth2/v1/token``
with scope ``botmessage`` (``client_id`` defaults to the bot id, as on Samsung's MaaP), or a
static bearer token (GSMA FNW.11 / RCC.07 chatbot API).

The GSMA request builders and parsers live in :mod:`rcskit.providers.gsma_api`, shared with
the Dotgo GSMA flavour (:mod:`rcskit.providers.dotgo`, a MaaP with a few paths of its own)
and Orange.

::

    config = MaapConfig("https://maap.example.com", "mybot@botplatform", client_secret="...")
    async with RcsClient(config) as client:
        await client.send("+14251234567", "hello world")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from pydantic import SecretStr

from ..auth import Auth, ClientCredentials, StaticToken, secret
from ..errors import (
    ProviderError,
)
from ..transport import HttpResponse, path_segment
from .base import (
    Operation,
    Provider,
    error_details,
    provider_code,
)
from .gsma_api import (
    build_capabilities,
    build_delete_file,
    build_file_info,
    build_mark_read,
    build_revoke,
    build_send,
    build_status,
    build_typing,
    build_upload,
    classify,
    parse_capabilities,
    parse_file,
    parse_nothing,
    parse_revoke,
    parse_send,
    parse_status,
    raw_body,
)
from .registry import ProviderSpec

if TYPE_CHECKING:
    from ..inbound.verify import Verifier

__all__ = [
    "SPEC",
    "MaapConfig",
    "describe",
    "map_error",
]

NAME = "maap"


@dataclass(frozen=True)
class MaapConfig:
    """Settings of a GSMA MaaP bot.

    Give ``client_secret`` (OAuth 2.0 client credentials; ``client_id`` defaults to
    ``bot_id``) or ``token`` (a static bearer token), not both. ``token_url`` defaults to
    ``{server_root}/oauth2/v1/token``. ``revoke_status`` is ``"cancelled"`` (FNW.11) or
    ``"canceled"`` (Samsung's spelling).

    ``client_message_ids`` (off by default; the ``rcskit.toml`` key of the same name): every
    message goes out with an id of ours in ``RCSMessage.msgId`` (optional in FNW.11), and a
    campaign may then ask ``GET messages/{msgId}/status`` by that id after a lost answer
    (404: never arrived, sent again; found: accepted). Whether a MaaP keeps the msgId it is
    given is not documented in general: turn it on only if your platform keeps the msgId you
    send.
    """

    server_root: str
    bot_id: str
    client_secret: SecretStr | str | None = field(default=None, repr=False)
    client_id: str | None = None
    token: SecretStr | str | None = field(default=None, repr=False)
    scope: str = "botmessage"
    token_url: str | None = None
    api_path: str = "/bot/v1"
    revoke_status: str = "cancelled"
    client_message_ids: bool = False
    name: ClassVar[str] = NAME

    def __post_init__(self) -> None:
        if not self.server_root.startswith(("http://", "https://")):
            raise ValueError(
                f"MaapConfig.server_root: an http(s) URL is required, got {self.server_root!r}"
            )
        if not self.bot_id:
            raise ValueError("MaapConfig.bot_id is required")
        if (self.client_secret is None) == (self.token is None):
            raise ValueError(
                "MaapConfig: give client_secret (OAuth2) or token (static), exactly one"
            )
        object.__setattr__(self, "server_root", self.server_root.rstrip("/"))
        if self.client_secret is not None:
            object.__setattr__(self, "client_secret", secret(self.client_secret))
        if self.token is not None:
            object.__setattr__(self, "token", secret(self.token))

    @property
    def base(self) -> str:
        """``{server_root}{api_path}/{botId}``: the root of the bot's resources."""
        return f"{self.server_root}{self.api_path}/{path_segment(self.bot_id)}"

    def provider(self) -> Provider:
        """The MaaP provider bound to these settings."""
        return describe(self)

    def auth(self) -> Auth:
        """A static token, or a client-credentials flow with its own token cache."""
        if self.token is not None:
            return StaticToken(self.token)
        assert self.client_secret is not None
        return ClientCredentials(
            self.token_url or f"{self.server_root}/oauth2/v1/token",
            self.client_id or self.bot_id,
            self.client_secret,
            scope=self.scope or None,
            grant_in="form",
            provider=NAME,
        )


def describe(config: MaapConfig) -> Provider:
    """The :class:`Provider` of a generic MaaP with ``config``."""
    base = config.base
    return Provider(
        name=NAME,
        map_error=map_error,
        limits_profile=SPEC.limits_profile,
        templates=SPEC.templates,
        client_message_ids=SPEC.dedupes_message_id or config.client_message_ids,
        send=Operation(
            partial(build_send, base, "messages"), partial(parse_send, NAME), idempotent=False
        ),
        send_typing=Operation(
            partial(build_typing, base, "messages"), parse_nothing, idempotent=False
        ),
        mark_read=Operation(partial(build_mark_read, base), parse_nothing, rate_group=None),
        status=Operation(partial(build_status, base), partial(parse_status, NAME), rate_group=None),
        revoke=Operation(
            partial(build_revoke, base, config.revoke_status), partial(parse_revoke, NAME)
        ),
        capabilities=Operation(
            partial(build_capabilities, base), partial(parse_capabilities, NAME)
        ),
        upload_file=Operation(
            partial(build_upload, base),
            partial(parse_file, NAME),
            idempotent=False,
            rate_group=None,
        ),
        file_info=Operation(
            partial(build_file_info, base), partial(parse_file, NAME), rate_group=None
        ),
        delete_file=Operation(partial(build_delete_file, base), parse_nothing, rate_group=None),
    )


# ---------------------------------------------------------------- errors


def map_error(response: HttpResponse, operation: str) -> ProviderError:
    """The MaaP's error answer as an exception: reads ``{"reason": {"text"}}`` (FNW.11,
    rcs_chatbot) and ``{"error": ...}`` (rcs-maap-bot) bodies, then :func:`classify`."""
    body = response.json()
    message, code = error_details(body, response.text())
    return classify(
        NAME, response, operation, message, provider_code(code, response.status), raw_body(response)
    )


def _from_campaign_options(
    bot_id: str,
    client_id: str,
    client_secret: SecretStr | str,
    server_root: str | None,
    auth_url: str | None,
) -> MaapConfig:
    """The config of a campaign given with options (``rcskit campaign create --provider``);
    a MaaP has no default host, so ``server_root`` is required."""
    if not server_root:
        raise ValueError("MaapConfig: server_root is required (no default host)")
    return MaapConfig(
        server_root,
        bot_id,
        client_secret=client_secret,
        client_id=client_id,
        token_url=auth_url,
    )


def _token_verifier(token: str) -> Verifier:
    """The Samsung-style verification token in the ``Authorization`` header."""
    from ..inbound.verify import StaticToken as TokenHeader

    return TokenHeader(token)


SPEC = ProviderSpec(
    name=NAME,
    title="Generic GSMA MaaP",
    config=MaapConfig,
    limits_profile="gsma",
    wire_format="gsma",
    operations=frozenset(
        {
            "send",
            "send_typing",
            "mark_read",
            "status",
            "revoke",
            "capabilities",
            "upload_file",
            "file_info",
            "delete_file",
        }
    ),
    templates=False,
    webhook_format="gsma",
    default_verifier=_token_verifier,
    campaigns=True,
    campaign_options=_from_campaign_options,
    dedupes_message_id=False,
    status_lookup=False,
    emulator_flavour="maap",
)
"""A generic GSMA MaaP (FNW.11, seed 003).

Idempotency: neither seed 003 nor any public MaaP documentation found says what a MaaP does
with a repeated client ``msgId`` (some SDKs expect a 409 conflict; unverified), nor that the
status GET answers 404 for a message that never arrived: the safe values
``dedupes_message_id=False`` and ``status_lookup=False``; an account opts in with
``MaapConfig.client_message_ids``. Webhooks: the verification token set
in the bot portal, sent in ``Authorization`` (Samsung's MaaP chatbot SDK)."""
