"""The Google RBM flavour (Google's own API, google_rbm.md sections 1-4), under ``/google``.

With the emulator at ``E`` a client uses the API root ``E/google`` (for
``https://rcsbusinessmessaging.googleapis.com``) and the token URL ``E/google/token`` (for
``https://oauth2.googleapis.com/token``); after those bases every path is Google's:

==================================================  =======================================
``POST /token``                                     service-account JWT bearer grant
``POST /v1/phones/{phone}/agentMessages``           send (``?messageId=&agentId=``)
``DELETE /v1/phones/{phone}/agentMessages/{id}``    revoke (``?agentId=``)
``POST /v1/phones/{phone}/agentEvents``             READ / IS_TYPING (``?eventId=&agentId=``)
``GET /v1/phones/{phone}/capabilities``             ``?requestId=&agentId=``
``POST /v1/users:batchGet``                         bulk reachability
``POST /v1/phones/{phone}/testers``                 tester invite (``?agentId=``)
``POST /v1/files``, ``POST /upload/v1/files``       files.create (URL / upload)
==================================================  =======================================

Modules: :mod:`.auth` (tokens, agent check, faults and throttling),
:mod:`.messages`, :mod:`.users`,
:mod:`.files`, :mod:`.webhooks`
(Pub/Sub envelope and ``X-Goog-Signature``). Errors are Google's
``{"error": {"code", "message", "status"}}`` (:mod:`.errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ...core.state import EmulatorState
from .. import Flavour
from .auth import token_endpoint
from .errors import GoogleError, google_error_body
from .files import create_file, upload_file
from .messages import agent_event, create_message, revoke
from .users import batch_get, capabilities, invite_tester
from .webhooks import render_google_rbm

__all__ = ["FLAVOUR", "google_rbm_routes"]

Handler = Callable[[EmulatorState, Request], Awaitable[Response]]


def google_rbm_routes(state: EmulatorState) -> list[BaseRoute]:
    """Every Google RBM route, relative to ``/google``."""

    def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            try:
                return await handler(state, request)
            except GoogleError as err:
                return JSONResponse(google_error_body(err), status_code=err.status)

        return serve

    phone = "/v1/phones/{phone}"
    return [
        Route("/token", token_endpoint(state), methods=["POST"]),
        Route(f"{phone}/agentMessages", endpoint(create_message), methods=["POST"]),
        Route(f"{phone}/agentMessages/{{message_id}}", endpoint(revoke), methods=["DELETE"]),
        Route(f"{phone}/agentEvents", endpoint(agent_event), methods=["POST"]),
        Route(f"{phone}/capabilities", endpoint(capabilities), methods=["GET"]),
        Route(f"{phone}/testers", endpoint(invite_tester), methods=["POST"]),
        Route("/v1/users:batchGet", endpoint(batch_get), methods=["POST"]),
        Route("/v1/files", endpoint(create_file), methods=["POST"]),
        Route("/upload/v1/files", endpoint(upload_file), methods=["POST"]),
    ]


def _endpoints(base: str) -> list[tuple[str, str]]:
    return [
        ("Google RBM API root", f"{base}/google"),
        ("Google token URL", f"{base}/google/token"),
    ]


FLAVOUR = Flavour(
    name="google",
    prefix="/google",
    routes=google_rbm_routes,
    renderers={"google": render_google_rbm},
    endpoints=_endpoints,
)
"""The Google RBM flavour, as :func:`rcskit.emulator.app.create_app` mounts it."""
