"""rcskit.toml: provider accounts by name, secrets from the environment or files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rcskit.cli.config import (
    EMULATOR_DEMO_SECRET,
    EMULATOR_PROFILE,
    EMULATOR_SECRET_ENV,
    EMULATOR_URL_ENV,
    ConfigError,
    load_config,
)
from rcskit.providers.dotgo import DotgoConfig
from rcskit.providers.google_rbm import GoogleRbmConfig
from rcskit.providers.maap import MaapConfig
from rcskit.providers.orange import OrangeConfig
from rcskit.providers.smsbox import SmsboxConfig
from rcskit.ratelimit import DotgoWindowLimiter, TokenBucket
from rcskit.transport import FakeTransport, HttpResponse

CANARY = "canary-SECRET-7f3a9c"

DOTGO = """
[providers.mydotgo]
kind = "dotgo"
bot_id = "OsOsQ0GwNvUdLTV9Bd"
client_id = "my-client"
client_secret_env = "DOTGO_SECRET"
server_root = "https://api.dotgo.com/rcs"
"""


def write(tmp_path: Path, text: str, name: str = "rcskit.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def secret_of(value: Any) -> str:
    return str(value.get_secret_value())


@pytest.fixture(scope="module")
def pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_a_provider_with_its_secret_from_the_environment(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, DOTGO), {"DOTGO_SECRET": CANARY, "OTHER": "x"})
    cfg = config.provider_config("mydotgo")
    assert isinstance(cfg, DotgoConfig)
    assert (cfg.bot_id, cfg.client_id, cfg.server_root) == (
        "OsOsQ0GwNvUdLTV9Bd",
        "my-client",
        "https://api.dotgo.com/rcs",
    )
    assert secret_of(cfg.client_secret) == CANARY
    assert config.names == [EMULATOR_PROFILE, "mydotgo"]
    assert CANARY not in repr(config) and CANARY not in repr(cfg)


def test_a_secret_from_a_file_relative_to_the_toml(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "dotgo").write_text(CANARY + "\n")
    text = DOTGO.replace(
        'client_secret_env = "DOTGO_SECRET"', 'client_secret_file = "secrets/dotgo"'
    )
    cfg = load_config(write(tmp_path, text), {}).provider_config("mydotgo")
    assert isinstance(cfg, DotgoConfig) and secret_of(cfg.client_secret) == CANARY


def test_an_inline_secret_is_refused_and_the_error_says_how(tmp_path: Path) -> None:
    text = DOTGO.replace('client_secret_env = "DOTGO_SECRET"', f'client_secret = "{CANARY}"')
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), {})
    message = str(info.value)
    assert "providers.mydotgo.client_secret" in message
    assert 'client_secret_env = "VARIABLE"' in message and 'client_secret_file = "path"' in message
    assert CANARY not in message


SECRET_LINE = 'client_secret_env = "DOTGO_SECRET"'
HEAD = "[providers.mydotgo]"
BOT_LINE = 'bot_id = "OsOsQ0GwNvUdLTV9Bd"'
BROKEN = [
    (
        (SECRET_LINE, 'client_secret_env = "A"\nclient_secret_file = "b"'),
        "give client_secret_env or client_secret_file, not both",
    ),
    ((SECRET_LINE, ""), "client_secret is required: set client_secret_env"),
    (('kind = "dotgo"', 'kind = "dotgoo"'), "kind: 'dotgoo' is not one of dotgo, dotgo_google"),
    (('kind = "dotgo"', ""), "providers.mydotgo.kind is required"),
    ((BOT_LINE, "bot_id = 12"), "bot_id: expected a string, got 12"),
    ((BOT_LINE, ""), "bot_id required for kind 'dotgo'"),
    ((HEAD, f"{HEAD}\nbotid = 'x'"), "botid: unknown setting"),
    ((HEAD, f"default_provider = 'nope'\n{HEAD}"), "'nope' is not configured"),
    ((HEAD, f"{HEAD}\ntps = 'fast'"), "tps: expected an integer or a number"),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
def test_configuration_errors_name_the_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = write(tmp_path, DOTGO.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(path, {"DOTGO_SECRET": "s"})
    assert expected in str(info.value) and str(path) in str(info.value)


def test_unknown_settings_list_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, DOTGO + "serverroot = 'x'\n")
    known = "known: auth_url, bot_id, client_id, client_message_ids, client_secret_env"
    with pytest.raises(ConfigError, match=known):
        load_config(path, {})


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml", {})
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[providers\n"), {})
    with pytest.raises(ConfigError, match="providers must be a table"):
        load_config(write(tmp_path, "providers = 3\n"), {})


def test_a_missing_variable_fails_only_its_provider(tmp_path: Path) -> None:
    text = (
        DOTGO
        + """
[providers.box]
kind = "smsbox"
agent_id = "agent-1"
api_key_env = "SMSBOX_KEY"
"""
    )
    config = load_config(write(tmp_path, text), {"SMSBOX_KEY": CANARY})
    with pytest.raises(ConfigError) as info:
        config.client("mydotgo")
    assert "providers.mydotgo.client_secret_env: environment variable DOTGO_SECRET is not set" in (
        str(info.value)
    )
    box = config.provider_config("box")
    assert isinstance(box, SmsboxConfig) and secret_of(box.api_key) == CANARY


def test_a_missing_secret_file_names_it(tmp_path: Path) -> None:
    text = DOTGO.replace('client_secret_env = "DOTGO_SECRET"', 'client_secret_file = "nope.txt"')
    config = load_config(write(tmp_path, text), {})
    with pytest.raises(ConfigError, match=r"client_secret_file: cannot read .*nope\.txt"):
        config.provider_config("mydotgo")


def test_load_config_reads_only_the_mapping_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOTGO_SECRET", "from-os-environ")
    monkeypatch.setenv(EMULATOR_SECRET_ENV, "from-os-environ")
    config = load_config(write(tmp_path, DOTGO), {})
    with pytest.raises(ConfigError, match="DOTGO_SECRET is not set"):
        config.provider_config("mydotgo")
    emulator = config.provider_config(EMULATOR_PROFILE)
    assert isinstance(emulator, DotgoConfig)
    assert secret_of(emulator.client_secret) == EMULATOR_DEMO_SECRET
    assert os.environ["DOTGO_SECRET"] == "from-os-environ"


def test_the_builtin_emulator_profile() -> None:
    config = load_config(None, {})
    assert config.resolve_name() == EMULATOR_PROFILE
    cfg = config.provider_config()
    assert isinstance(cfg, DotgoConfig)
    assert cfg.bot_id == "OsOsQ0GwNvUdLTV9Bd" and cfg.client_id == "dotgo-demo-client"
    assert cfg.server_root == "http://127.0.0.1:8000/dotgo/rcs"
    assert cfg.auth_url == "http://127.0.0.1:8000/dotgo/auth/oauth/token"
    assert secret_of(cfg.client_secret) == EMULATOR_DEMO_SECRET
    own = load_config(None, {EMULATOR_SECRET_ENV: CANARY}).provider_config(EMULATOR_PROFILE)
    assert isinstance(own, DotgoConfig) and secret_of(own.client_secret) == CANARY


def test_a_table_named_emulator_replaces_the_builtin(tmp_path: Path) -> None:
    text = DOTGO.replace("mydotgo", "emulator").replace("https://api.dotgo.com/rcs", "http://h/rcs")
    cfg = load_config(write(tmp_path, text), {"DOTGO_SECRET": "s"}).provider_config("emulator")
    assert isinstance(cfg, DotgoConfig) and cfg.server_root == "http://h/rcs"


def test_provider_resolution(tmp_path: Path) -> None:
    two = DOTGO + DOTGO.replace("mydotgo", "second")
    config = load_config(write(tmp_path, two), {})
    with pytest.raises(ConfigError, match=r"several providers are configured \(mydotgo, second\)"):
        config.resolve_name()
    with pytest.raises(ConfigError, match="unknown provider 'nope'; configured: emulator, mydotgo"):
        config.resolve_name("nope")
    assert load_config(write(tmp_path, DOTGO), {}).resolve_name() == "mydotgo"
    chosen = load_config(write(tmp_path, 'default_provider = "second"\n' + two), {})
    assert chosen.resolve_name() == "second"


def test_maap_takes_exactly_one_secret(tmp_path: Path) -> None:
    base = """
[providers.m]
kind = "maap"
server_root = "https://maap.example.com"
bot_id = "bot@maap"
"""
    cfg = load_config(write(tmp_path, base + 'token_env = "T"\n'), {"T": CANARY}).provider_config()
    assert isinstance(cfg, MaapConfig) and cfg.token is not None
    for extra in ("", 'token_env = "T"\nclient_secret_env = "S"\n'):
        with pytest.raises(ConfigError, match="give exactly one secret"):
            load_config(write(tmp_path, base + extra), {})


def test_orange_with_a_key_file(tmp_path: Path, pem: str) -> None:
    (tmp_path / "bot.pem").write_text(pem)
    text = """
[providers.orange]
kind = "orange"
bot_id = "orange-bot"
authorization_header_env = "ORANGE_AUTH"
private_key_file = "bot.pem"
unitary_capabilities_per_minute = 3
"""
    config = load_config(write(tmp_path, text), {"ORANGE_AUTH": "Basic " + CANARY})
    cfg = config.provider_config("orange")
    assert isinstance(cfg, OrangeConfig) and cfg.unitary_capabilities_per_minute == 3
    assert secret_of(cfg.authorization_header) == "Basic " + CANARY
    (tmp_path / "bot.pem").write_text("garbage")
    with pytest.raises(ConfigError) as info:
        config.provider_config("orange")
    assert "providers.orange" in str(info.value) and "OrangeConfig.private_key" in str(info.value)
    assert CANARY not in str(info.value)


def test_google_with_a_service_account_file(tmp_path: Path, pem: str) -> None:
    import json

    key = {"type": "service_account", "client_email": "a@b.iam", "private_key": pem}
    (tmp_path / "key.json").write_text(json.dumps(key))
    text = """
[providers.g]
kind = "google"
agent_id = "my-agent"
service_account_file = "key.json"
token_url = "http://127.0.0.1:8000/google/token"
"""
    cfg = load_config(write(tmp_path, text), {}).provider_config("g")
    assert isinstance(cfg, GoogleRbmConfig) and cfg.account.client_email == "a@b.iam"
    assert cfg.token_url == "http://127.0.0.1:8000/google/token"


async def test_client_options_and_a_working_client(tmp_path: Path) -> None:
    text = DOTGO + "tps = 20\ntimeout = 5\nregion = 'IN'\n"
    text += '\n[providers.box]\nkind = "smsbox"\nagent_id = "a"\napi_key_env = "K"\ntps = 3\n'
    config = load_config(write(tmp_path, text), {"DOTGO_SECRET": "s", "K": CANARY})
    options = config.client_options("mydotgo")
    assert isinstance(options["limiter"], DotgoWindowLimiter)
    assert (options["timeout"], options["region"]) == (5, "IN")
    assert isinstance(config.client_options("box")["limiter"], TokenBucket)
    transport = FakeTransport(lambda req: HttpResponse.of_json(200, {"recipients": []}))
    async with config.client("box", transport=transport) as client:
        assert client.timeout == 30.0 and client.provider.name == "smsbox"
        await client.add_tester("+33612345678")
    assert transport.requests[0].header("Authorization") == f"App {CANARY}"
    async with config.client("mydotgo", transport=transport) as client:
        assert client.timeout == 5 and client.region == "IN"


def test_the_builtin_emulator_can_be_aimed_at_another_port() -> None:
    config = load_config(None, {EMULATOR_URL_ENV: "http://127.0.0.1:9000/"})
    cfg = config.provider_config(EMULATOR_PROFILE)
    assert isinstance(cfg, DotgoConfig)
    assert cfg.server_root == "http://127.0.0.1:9000/dotgo/rcs"
    assert cfg.auth_url == "http://127.0.0.1:9000/dotgo/auth/oauth/token"
    assert config.emulator_admin_url() == "http://127.0.0.1:9000/_emulator"
    default = load_config(None, {}).provider_config(EMULATOR_PROFILE)
    assert isinstance(default, DotgoConfig)
    assert default.server_root == "http://127.0.0.1:8000/dotgo/rcs"


@pytest.mark.parametrize("url", ["127.0.0.1:9000", "ftp://host", "http://", "http://h/?x=1"])
def test_a_bad_emulator_url_is_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigError, match=f"{EMULATOR_URL_ENV}: expected the emulator's base URL"):
        load_config(None, {EMULATOR_URL_ENV: url})


def test_every_registered_provider_is_a_kind_read_off_its_config_class() -> None:
    from rcskit.cli.config import KINDS
    from rcskit.providers import registry

    assert set(KINDS) == set(registry.names())
    assert KINDS["maap"].one_secret_of and KINDS["maap"].secrets == ("client_secret", "token")
    assert KINDS["orange"].secrets == ("authorization_header", "private_key")
    assert not KINDS["orange"].one_secret_of
    assert "clock" not in KINDS["google"].settings and "clock" not in KINDS["google"].secrets
    assert KINDS["orange"].settings["bulk_poll_interval"] == (int, float)
    assert KINDS["dotgo"].required == {"bot_id", "client_id"}
