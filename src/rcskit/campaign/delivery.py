"""What a provider offers against duplicates, as the campaign engine needs it.

After a crash or an unclear answer (a timeout, 502/504) a message may or may not have reached
the provider. Two facts decide what a worker does then (the provider registry states them per
provider, with their sources):

* ``dedupes_message_id``: the provider de-duplicates on the client's message id (Google's
  ``messageId``): resend as it is;
* ``status_lookup``: the provider answers ``GET .../messages/{msgId}/status`` for the client's
  id (GSMA MaaP where verified): ask first; 404 means it never arrived (send again), found
  means it was accepted;
* neither: the recipient is ``unknown`` and is listed, never resent unless asked.

The registry's values are the safe defaults. An account whose GSMA platform keeps the
client's ``RCSMessage.msgId`` opts in on its config (``DotgoConfig.client_message_ids``,
``MaapConfig.client_message_ids``); the bound provider then takes client ids, and
:func:`delivery_facts` adds the status lookup by our id where the provider offers ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..providers import registry
from ..providers.base import Provider

__all__ = ["DeliveryFacts", "delivery_facts"]


@dataclass(frozen=True, slots=True)
class DeliveryFacts:
    """How a provider guards against duplicate sends (see the module docstring)."""

    dedupes_message_id: bool
    status_lookup: bool

    @property
    def keeps_client_id(self) -> bool:
        """Whether the message goes out with our deterministic id (the provider uses it)."""
        return self.dedupes_message_id or self.status_lookup


def delivery_facts(provider: Provider) -> DeliveryFacts:
    """The effective facts for ``provider``: the registry's, plus the account's opt-in.

    ``dedupes_message_id`` is the registry's. ``status_lookup`` holds where the registry says
    so, or where the account opted in to client message ids (the bound provider takes our ids
    although the registry says it does not de-duplicate on them: a GSMA config with
    ``client_message_ids=True``); either way the bound provider must offer ``status``. A
    provider the registry does not know (a test double) gets ``client_message_ids`` as its
    de-duplication and no lookup: the safe default."""
    spec = registry.find(provider.name)
    if spec is None:
        return DeliveryFacts(dedupes_message_id=provider.client_message_ids, status_lookup=False)
    opted_in = provider.client_message_ids and not spec.dedupes_message_id
    return DeliveryFacts(
        dedupes_message_id=spec.dedupes_message_id,
        status_lookup=(spec.status_lookup or opted_in) and provider.status is not None,
    )
