"""The Google RBM API's request builders, shared by every Google-format provider (pure).

Google RBM itself (:mod:`rcskit.providers.google_rbm`) and Dotgo's Google API
(:mod:`rcskit.providers.dotgo_google`) serve the same resources under
``{root}/v1/phones/{E.164}/...``; they differ only in where they live and how they name the
bot, which a :class:`GoogleApi` value says::

    api = GoogleApi("google", "Google RBM", "https://rbm.example", "agentId", "my-agent",
                    send_path="agentMessages")
    request = build_capabilities(api, CapabilitiesArgs(Contact("+14251234567"), "req-1"))
    request.url  # 'https://rbm.example/v1/phones/+14251234567/capabilities'
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidMessage, UnsupportedFeature, Violation
from ..formats import google
from ..message import Contact
from ..transport import HttpRequest, path_segment
from . import gsma_api
from .base import CapabilitiesArgs, ReadArgs, RevokeArgs, SendArgs, TesterArgs, TypingArgs

__all__ = [
    "GoogleApi",
    "build_add_tester",
    "build_capabilities",
    "build_mark_read",
    "build_revoke",
    "build_send",
    "build_typing",
]

_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True, slots=True)
class GoogleApi:
    """Where one Google-format API lives and how it names the bot.

    - ``provider``: the provider name (in errors); ``who``: how errors name the API;
    - ``root``: the URL before ``/v1/phones/...``;
    - ``bot_param``/``bot_id``: the query parameter naming the bot (``agentId`` or ``botId``)
      and its value; ``bot_param_first``: it comes first in the query string;
    - ``send_path``: the resource a message is posted to under the phone
      (``agentMessages``, or Dotgo's ``agentMessages/async``);
    - ``file_style``/``drop_metadata``: how messages are encoded
      (:func:`rcskit.formats.google.encode`);
    - ``revoke_conversation``: a revoke may name the ``conversationId`` the send returned.
    """

    provider: str
    who: str
    root: str
    bot_param: str
    bot_id: str
    send_path: str
    file_style: google.FileStyle = "uploadedRbmFile"
    drop_metadata: bool = False
    bot_param_first: bool = False
    revoke_conversation: bool = False

    def params(self, **named: str) -> dict[str, str]:
        """The query parameters ``named`` with the bot's, in this API's order."""
        bot = {self.bot_param: self.bot_id}
        return {**bot, **named} if self.bot_param_first else {**named, **bot}

    def phone_url(self, contact: Contact | None, operation: str) -> str:
        """``{root}/v1/phones/{E.164}``; a contact without a phone number is refused."""
        contact = gsma_api.contact_for(contact, self.provider, operation)
        if contact.msisdn is None:
            raise InvalidMessage(
                [Violation("to", str(contact), f"{self.who} addresses users by phone number only")]
            )
        return f"{self.root}/v1/phones/{path_segment(contact.msisdn)}"


def build_send(api: GoogleApi, args: SendArgs) -> HttpRequest:
    """``POST .../{send_path}?messageId=`` (and the bot) with the ``AgentMessage`` body."""
    message_id = args.message.message_id
    if not message_id:
        raise InvalidMessage([Violation("message_id", None, f"{api.who} sends always carry one")])
    body = google.encode(args.message, file_style=api.file_style, drop_metadata=api.drop_metadata)
    return HttpRequest(
        "POST",
        f"{api.phone_url(args.to, 'send')}/{api.send_path}",
        headers=_JSON,
        params=api.params(messageId=message_id),
        json=body,
    )


def _event(
    api: GoogleApi, to: Contact | None, event_id: str, body: dict[str, str], operation: str
) -> HttpRequest:
    return HttpRequest(
        "POST",
        f"{api.phone_url(to, operation)}/agentEvents",
        headers=_JSON,
        params=api.params(eventId=event_id),
        json=body,
    )


def build_typing(api: GoogleApi, args: TypingArgs) -> HttpRequest:
    """An ``IS_TYPING`` agent event. Google has no "stopped typing" event: ``active=False``
    raises :class:`~rcskit.errors.UnsupportedFeature` (the indicator ends by itself after
    about 20 s, or with the next message)."""
    if not args.active:
        raise UnsupportedFeature(
            "typing indicator off",
            api.provider,
            f"{api.who} has no idle event; the indicator ends by itself or with the next message",
        )
    return _event(api, args.to, args.event_id, google.encode_typing(), "send_typing")


def build_mark_read(api: GoogleApi, args: ReadArgs) -> HttpRequest:
    """A ``READ`` agent event for the user's message ``message_id`` (needs ``to``)."""
    return _event(api, args.to, args.event_id, google.encode_read(args.message_id), "mark_read")


def build_revoke(api: GoogleApi, args: RevokeArgs) -> HttpRequest:
    """``DELETE .../agentMessages/{messageId}`` (with ``{"conversationId"}`` where the API
    takes one and the send returned it)."""
    url = f"{api.phone_url(args.to, 'revoke')}/agentMessages/{path_segment(args.message_id)}"
    if api.revoke_conversation and args.conversation_id:
        return HttpRequest(
            "DELETE",
            url,
            headers=_JSON,
            params=api.params(),
            json={"conversationId": args.conversation_id},
        )
    return HttpRequest("DELETE", url, params=api.params())


def build_capabilities(api: GoogleApi, args: CapabilitiesArgs) -> HttpRequest:
    """``GET .../capabilities?requestId=`` (and the bot)."""
    return HttpRequest(
        "GET",
        f"{api.phone_url(args.contact, 'capabilities')}/capabilities",
        params=api.params(requestId=args.request_id),
    )


def build_add_tester(api: GoogleApi, args: TesterArgs) -> HttpRequest:
    """``POST .../testers`` with no body (as Google's samples send it)."""
    return HttpRequest(
        "POST", f"{api.phone_url(args.contact, 'add_tester')}/testers", params=api.params()
    )
