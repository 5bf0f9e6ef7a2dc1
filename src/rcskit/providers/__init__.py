"""Provider descriptions: per-provider request building and response parsing (pure).

Each module describes one provider API (see :mod:`rcskit.providers.base`); its config class
is what :class:`rcskit.client.RcsClient` is built from:

- :class:`DotgoConfig`: Dotgo, GSMA API (seed 002 section 2);
- :class:`DotgoGoogleConfig`: Dotgo, Google API (seed 002 section 3);
- :class:`MaapConfig`: a generic GSMA MaaP (seed 003, FNW.11);
- :class:`OrangeConfig`: Orange RCS BotHub (seeds 000, 001);
- :class:`SmsboxConfig`: SMSBOX RCS API (seed 004);
- :class:`GoogleRbmConfig`: Google RBM directly, with a :class:`ServiceAccount`.

Each module's ``SPEC`` describes its provider; :mod:`rcskit.providers.registry` collects them
(``registry.get("dotgo")``, ``registry.all()``) and every per-provider table is derived from
it. :func:`capability_table` tells which provider offers which operation.

Shared request builders and parsers: :mod:`~rcskit.providers.gsma_api` (the GSMA MaaP API:
MaaP, Dotgo's GSMA API, Orange) and :mod:`~rcskit.providers.google_api` (the Google RBM API:
Google RBM and Dotgo's Google API, which differ in URLs and names).
"""

from __future__ import annotations

from . import registry
from .base import OPERATIONS, Operation, Provider, ProviderConfig
from .dotgo import DotgoConfig
from .dotgo_google import DotgoGoogleConfig
from .google_rbm import GoogleRbmConfig, ServiceAccount
from .maap import MaapConfig
from .orange import OrangeConfig
from .registry import BulkCheck, ProviderSpec, capability_markdown, capability_table
from .smsbox import SmsboxConfig

__all__ = [
    "OPERATIONS",
    "BulkCheck",
    "DotgoConfig",
    "DotgoGoogleConfig",
    "GoogleRbmConfig",
    "MaapConfig",
    "Operation",
    "OrangeConfig",
    "Provider",
    "ProviderConfig",
    "ProviderSpec",
    "ServiceAccount",
    "SmsboxConfig",
    "capability_markdown",
    "capability_table",
    "registry",
]
