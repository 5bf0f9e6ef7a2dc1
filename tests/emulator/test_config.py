"""Config models, the TOML loader, the default config and the phone population."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from rcskit.emulator.config import (
    EmulatorConfig,
    EmulatorConfigError,
    PhoneRangeConfig,
    TemplateConfig,
    default_config,
    load_config,
    parse_config,
)
from rcskit.emulator.core.phones import PhoneDirectory

TOML = """
request_log_size = 500

[webhook]
attempts = 3

[[bots]]
id = "MyBot"
provider = "dotgo"
client_id = "my-client"
client_secret = "s3cret-value"
webhook_url = "http://127.0.0.1:9000/hook"
launched = false
testers = ["+14251234567"]
tps = 10

[bots.templates.welcome]
kind = "text"
params = ["name"]
content = { textMessage = "Hi {name}" }

[bots.faults]
rate_429 = 0.1
seed = 42

[[phones]]
number = "+14251234567"
online = false
displayed_delay_s = 0.5

[[phone_ranges]]
prefix = "+1555"
count = 1000
rcs_ratio = 0.5
"""


def test_load_toml(tmp_path: Path) -> None:
    path = tmp_path / "emulator.toml"
    path.write_text(TOML)
    config = load_config(path)
    bot = config.bot("MyBot")
    assert bot is not None
    assert bot.client_secret.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(config)
    assert (bot.launched, bot.testers, bot.tps, bot.faults.seed) == (
        False,
        ["+14251234567"],
        10,
        42,
    )
    assert bot.templates["welcome"].params == ["name"]
    assert config.phones[0].online is False
    assert config.phone_ranges[0].count == 1000
    assert (config.webhook.attempts, config.request_log_size) == (3, 500)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bots": [{"id": "b", "provider": "nope", "client_id": "c"}]}, "provider 'nope'"),
        ({"bots": [{"id": "b d", "provider": "dotgo", "client_id": "c"}]}, "bot id"),
        ({"phones": [{"number": "0612345678"}]}, "not an E.164 number"),
        ({"phones": [{"number": "+14251234567"}, {"number": "+14251234567"}]}, "duplicate phone"),
        (
            {
                "bots": [
                    {"id": "a", "provider": "dotgo", "client_id": "c"},
                    {"id": "b", "provider": "dotgo", "client_id": "c"},
                ]
            },
            "duplicate client_id",
        ),
        ({"phone_ranges": [{"prefix": "+1555", "count": 10, "digits": 15}]}, "digits"),
        ({"phone_ranges": [{"prefix": "+1555", "count": 10**7 + 1}]}, "exceeds"),
        ({"bots": [{"id": "b", "provider": "dotgo", "client_id": "c", "tps": 0}]}, "bots.0.tps"),
        ({"unknown_key": 1}, "unknown_key"),
    ],
)
def test_bad_configs_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(EmulatorConfigError) as err:
        parse_config(data)
    assert message in str(err.value)


def test_bad_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[bots]\nid=")
    with pytest.raises(EmulatorConfigError, match="not valid TOML"):
        load_config(path)
    with pytest.raises(EmulatorConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_templates_are_checked() -> None:
    with pytest.raises(ValueError, match="not declared in params"):
        TemplateConfig(kind="text", content={"textMessage": "Hi {name}"})
    with pytest.raises(ValueError, match="generalPurposeCardCarousel"):
        TemplateConfig(kind="carousel", content={"textMessage": "x"})


def test_default_config() -> None:
    config = default_config()
    ids = [(b.id, b.provider, b.client_id) for b in config.bots]
    assert ids == [
        ("OsOsQ0GwNvUdLTV9Bd", "dotgo", "dotgo-demo-client"),
        ("GgL8dP2wXq4RtY7Zb1", "dotgo_google", "dotgo-google-demo-client"),
        ("bothub-demo-bot", "orange", "orange-demo-app"),
        ("SMSBOXDEMO0001", "smsbox", "smsbox-demo-account"),
        ("maap-demo-bot", "maap", "maap-demo-bot"),
        ("rcskit-demo-agent", "google", "rbm-demo@rcskit-demo.iam.gserviceaccount.com"),
    ]
    secrets = {b.client_secret.get_secret_value() for b in config.bots}
    assert len(secrets) == 6 and all(len(s) >= 24 for s in secrets)
    assert default_config().bots[0].client_secret != config.bots[0].client_secret
    directory = PhoneDirectory(config)
    assert directory.get("+914253136789").rcs  # type: ignore[union-attr]
    assert not directory.get("+914253136788").rcs  # type: ignore[union-attr]
    assert not directory.get("+14255550100").online  # type: ignore[union-attr]
    assert directory.get("+14255550122").opted_out_of("anything")  # type: ignore[union-attr]
    assert len(directory) == 100_013


def test_range_population_is_deterministic_and_cheap() -> None:
    config = EmulatorConfig(
        phone_ranges=[
            PhoneRangeConfig(prefix="+1555", count=100_000, rcs_ratio=0.9, online_ratio=0.8)
        ]
    )
    tracemalloc.start()
    started = time.perf_counter()
    directory = PhoneDirectory(config)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size < 50_000
    assert time.perf_counter() - started < 0.5  # lazy: nothing is generated up front
    sample = [f"+1555{i:07d}" for i in range(0, 100_000, 50)]
    rcs = sum(directory.get(n).rcs for n in sample)  # type: ignore[union-attr]
    online = sum(directory.get(n).online for n in sample)  # type: ignore[union-attr]
    assert 0.86 < rcs / len(sample) < 0.94
    assert 0.76 < online / len(sample) < 0.84
    again = PhoneDirectory(config)
    assert [again.get(n).rcs for n in sample] == [directory.get(n).rcs for n in sample]  # type: ignore[union-attr]
    assert directory.get("+15550100000") is None  # past the range
    assert directory.get("+155500000001") is None  # too many digits
    assert directory.get("+19999999999") is None


def test_unknown_numbers_can_be_rcs() -> None:
    directory = PhoneDirectory(EmulatorConfig(unknown_numbers_rcs=True))
    phone = directory.get("+33612345678")
    assert phone is not None and phone.rcs and "chat" in phone.features


def test_materialized_phones_keep_changes() -> None:
    directory = PhoneDirectory(
        EmulatorConfig(phone_ranges=[PhoneRangeConfig(prefix="+1555", count=10)])
    )
    directory.materialize("+15550000003").online = False  # type: ignore[union-attr]
    assert directory.get("+15550000003").online is False  # type: ignore[union-attr]
    assert directory.get("+15550000004").online is True  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="already exists"):
        from rcskit.emulator.config import PhoneConfig

        directory.add(PhoneConfig(number="+15550000001"))


def test_default_config_with_a_demo_secret_for_the_dotgo_bots() -> None:
    config = default_config("demo-secret-value")
    dotgo = [b for b in config.bots if b.provider in ("dotgo", "dotgo_google")]
    assert [b.client_secret.get_secret_value() for b in dotgo] == ["demo-secret-value"] * 2
    others = [b for b in config.bots if b.provider not in ("dotgo", "dotgo_google")]
    assert all(b.client_secret.get_secret_value() != "demo-secret-value" for b in others)
