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
    """The facts for ``provider`` from the provider registry (a lookup also needs the bound
    provider to offer ``status``); a provider the registry does not know (a test double)
    gets ``client_message_ids`` and no lookup: the safe default."""
    spec = registry.find(provider.name)
    if spec is None:
        return DeliveryFacts(dedupes_message_id=provider.client_message_ids, status_lookup=False)
    return DeliveryFacts(
        dedupes_message_id=spec.dedupes_message_id,
        status_lookup=spec.status_lookup and provider.status is not None,
    )
