"""Alertmanager's configuration, rendered from `monitoring/alertmanager/alertmanager.yml`: the same routing (grouped
by province and severity) locally and on Kubernetes, with the webhook and the waits filled in where given."""
from dataclasses import dataclass
from pathlib import Path

import yaml

from monitoring.render import dump

ALERTMANAGER_FILE = Path(__file__).resolve().parent / "alertmanager" / "alertmanager.yml"
RECEIVER = "fleet-sre"


@dataclass(frozen=True)
class AlertingOptions:
    """`webhook_url`: where the fleet-sre receiver posts (None: nowhere); `group_wait`: how long the first
    notification of a group waits for more alerts (and, when given, how often a changed group is re-sent)."""

    webhook_url: str | None = None
    group_wait: str | None = None


def alertmanager_config(options: AlertingOptions = AlertingOptions()) -> dict:
    config = yaml.safe_load(ALERTMANAGER_FILE.read_text())
    if options.group_wait is not None:
        config["route"]["group_wait"] = options.group_wait
        config["route"]["group_interval"] = options.group_wait
    if options.webhook_url is not None:
        receiver = next(r for r in config["receivers"] if r["name"] == RECEIVER)
        # resolved alerts are sent too: the receiver learns when the province is back
        receiver["webhook_configs"] = [{"url": options.webhook_url, "send_resolved": True}]
    return config


def alertmanager_text(options: AlertingOptions = AlertingOptions()) -> str:
    return dump(alertmanager_config(options))
