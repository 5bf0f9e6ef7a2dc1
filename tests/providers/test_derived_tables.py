"""Every per-provider table is derived from the registry; none is written out by hand.

Also the bug that showed why: ``campaign create`` checked a ``dotgo_google`` message against the
``dotgo`` limits (no 3,072-character text limit), so a campaign accepted a message that every
send then refused.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rcskit
from rcskit.app.bot import _google_family
from rcskit.campaign.capcache import BULK_PROFILES
from rcskit.campaign.create import create_campaign
from rcskit.campaign.errors import CampaignError
from rcskit.campaign.pacing import send_limiter
from rcskit.campaign.personalize import MessageTemplate
from rcskit.campaign.providers import KINDS, ProviderSettings
from rcskit.inbound import PROVIDERS, parse
from rcskit.message import Message
from rcskit.providers import registry
from rcskit.providers.registry import WEBHOOK_FORMATS, WIRE_FORMATS
from rcskit.ratelimit import DotgoWindowLimiter, TokenBucket
from rcskit.store import Store

SRC = Path(rcskit.__file__).parent

# ---------------------------------------------------------------- the bug


async def _create(tmp_path: Path, kind: str, text: str) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("phone\n+15550000001\n", encoding="utf-8")
    store = await Store.open(str(tmp_path / "c.db"))
    settings = ProviderSettings(kind, "bot", "client", server_root="https://maap.example")
    try:
        await create_campaign(
            store,
            name="long",
            provider=settings,
            csv=csv,
            message=MessageTemplate.from_message(Message(text)),
        )
    finally:
        await store.close()


async def test_campaign_create_refuses_a_text_over_dotgo_google_limit(tmp_path: Path) -> None:
    with pytest.raises(CampaignError, match="3072"):
        await _create(tmp_path, "dotgo_google", "x" * 3100)


async def test_campaign_create_accepts_the_same_text_on_dotgo(tmp_path: Path) -> None:
    await _create(tmp_path, "dotgo", "x" * 3100)  # the GSMA API has no such text limit


# ---------------------------------------------------------------- derived tables


def test_campaign_option_kinds_and_pacing_come_from_the_registry() -> None:
    assert KINDS == ("dotgo", "dotgo_google", "maap")
    assert isinstance(send_limiter("dotgo_google", 10), DotgoWindowLimiter)
    assert isinstance(send_limiter("smsbox", 10), TokenBucket)
    assert isinstance(send_limiter("emulator", 10), TokenBucket)  # not a registry name


def test_bulk_profiles_and_the_capability_checker_use_each_providers_own_check() -> None:
    with_bulk = {s.name for s in registry.all() if s.bulk_check is not None}
    assert set(BULK_PROFILES) == with_bulk
    assert BULK_PROFILES["dotgo_google"].max_numbers == 10_000
    assert BULK_PROFILES["orange"].window is not None


def test_webhook_readers_cover_every_provider_and_read_by_format() -> None:
    assert set(PROVIDERS) == {*registry.names(), "gsma", "auto"}
    status = b'{"RCSMessage": {"msgId": "m1", "status": "delivered"}, "event": "messageStatus"}'
    assert parse("auto", status)[0].provider == "maap"
    billing = b'{"billing_event_id": "b1", "message_id": "m1", "billing_event_action": "x"}'
    events = parse("auto", billing)
    assert events and events[0].provider == "dotgo"
    assert _google_family("dotgo_google") and _google_family("google") and _google_family("auto")
    assert not _google_family("dotgo") and not _google_family("gsma")


# ---------------------------------------------------------------- the rule


ALLOWED = (
    "providers/",  # the provider modules: each describes itself
    "limits.py",  # the limits profiles are defined by name, each value citing its source
    "emulator/",  # the other side of the wire: it never imports providers, by design
)


def _literal_tables(tree: ast.AST, names: set[str], formats: set[str]) -> list[tuple[int, str]]:
    """(line, what) of every dict/tuple/list/set literal listing two or more provider names as
    keys, values or items. A table of format names (``gsma``, ``google``, ``smsbox``...) is not
    one even where formats share providers' names: it is one only when it also names a provider
    that is not a format, or holds no format that is not a provider (``gsma``, ``billing``)."""
    found: list[tuple[int, str]] = []
    targets: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if isinstance(target, ast.Name) and node.value is not None:
                targets[id(node.value)] = target.id
        if isinstance(node, ast.Compare) and len(node.comparators) == 1:
            targets[id(node.comparators[0])] = "in"
    for node in ast.walk(tree):
        groups: list[list[ast.expr]] = []
        if isinstance(node, ast.Dict):
            groups = [[k for k in node.keys if k is not None], list(node.values)]
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            groups = [list(node.elts)]
        for group in groups:
            constants = {e.value for e in group if isinstance(e, ast.Constant)}
            listed = constants & names
            only_formats = constants & (formats - names)
            if len(listed) >= 2 and (listed - formats or not only_formats):
                found.append((node.lineno, targets.get(id(node), "?")))
    return found


def test_no_provider_table_is_written_out_outside_the_provider_modules() -> None:
    """A literal dict/tuple/list/set naming two or more providers anywhere in ``src/rcskit``
    is a second copy of a registry fact, and it drifts: ``campaign create`` once checked
    ``dotgo_google`` messages against the ``dotgo`` limits that way. Derive such tables from
    :mod:`rcskit.providers.registry` instead (``[s.name for s in registry.all() if ...]``).

    Allowed: the provider modules themselves, the limits profiles in ``limits.py`` (the
    profiles are defined there, by name) and the emulator (it stands alone on purpose and
    may not import providers).
    """
    names = set(registry.names())
    formats = set(WEBHOOK_FORMATS | WIRE_FORMATS) | {"billing"}
    offenders: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel.startswith(ALLOWED):
            continue
        for line, what in _literal_tables(ast.parse(path.read_text("utf-8")), names, formats):
            offenders.append(f"src/rcskit/{rel}:{line} ({what})")
    assert offenders == []


def test_the_rule_catches_a_table() -> None:
    tree = ast.parse(
        'LIMIT = {"dotgo": 1, "maap": 2}\n'
        'READERS = {"gsma": 1, "google": 2, "smsbox": 3}\n'
        'JSON = frozenset({"google", "smsbox"})\n'
    )
    names = {"dotgo", "maap", "google", "smsbox"}
    found = _literal_tables(tree, names, {"gsma", "google", "smsbox"})
    assert found == [(1, "LIMIT"), (3, "?")]
