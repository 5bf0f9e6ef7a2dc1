"""examples/observability: the files parse, and every metric they query exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from rcskit.observability import EMULATOR, LIBRARY

HERE = Path(__file__).resolve().parents[2] / "examples" / "observability"
SUFFIXES = ("_bucket", "_sum", "_count")


def defined() -> set[str]:
    names = set()
    for registry in (LIBRARY, EMULATOR):
        for inst in registry:
            names.add(inst.name)
    return names


def queried(text: str) -> set[str]:
    out = set()
    for name in re.findall(r"\brcskit_[a-z_]+", text):
        for suffix in SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in defined():
                name = name[: -len(suffix)]
        out.add(name)
    return out


def test_alert_rules_parse_and_query_real_metrics() -> None:
    rules = yaml.safe_load((HERE / "alerts.yml").read_text())
    (group,) = rules["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert set(alerts) == {
        "RcskitThrottled",
        "RcskitCampaignBacklogStale",
        "RcskitLeaseExpiries",
        "RcskitWebhookAckSlow",
    }
    for rule in alerts.values():
        assert rule["expr"].strip() and rule["annotations"]["summary"]
        assert queried(rule["expr"]) <= defined(), rule["alert"]
    assert "rcskit_throttled_total" in alerts["RcskitThrottled"]["expr"]


def test_scrape_config_loads_the_rules() -> None:
    config = yaml.safe_load((HERE / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {j["job_name"] for j in config["scrape_configs"]}
    assert jobs == {"rcskit-bot", "rcskit-workers", "rcskit-emulator"}


def test_dashboard_panels_query_real_metrics() -> None:
    dashboard = json.loads((HERE / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = set().union(*(queried(e) for e in exprs))
    assert used <= defined()
    for needed in (
        "rcskit_sends_total",
        "rcskit_throttled_total",
        "rcskit_send_duration_seconds",
        "rcskit_campaign_recipients",
        "rcskit_webhook_ack_seconds",
    ):
        assert needed in used
