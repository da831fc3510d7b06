"""`fsp devices simulate TENANT`: a device that sends readings to a province, normal or with a fault, for demos,
drills of the equipment alerts, and tests (scenarios in provisioning_cli.device_scenarios)."""
import uuid
from typing import Annotated

import httpx
import typer

from provisioning_cli.common import boundary, open_target
from provisioning_cli.device_scenarios import (
    ALERTS,
    DEFAULT_LIMITS,
    KINDS,
    SCENARIOS,
    ScenarioError,
    alert_after,
    check,
    ticks,
)
from provisioning_cli.device_simulator import HttpSender, MqttSender, SimulationError, Summary, first_seq, run
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, resolve_tenant

app = typer.Typer(no_args_is_help=True, help="Equipment telemetry (设备监测): simulated devices for demos and drills.")

SUBJECT = "fsp-device-simulator"  # who registers simulated devices, in the tenant's audit trail
LIMIT_KEYS = sorted({key for limits in DEFAULT_LIMITS.values() for key in limits})


@app.command("simulate")
def simulate(
    tenant: TenantArg,
    device: Annotated[str | None, typer.Option("--device", metavar="ID", help="A registered device to act as.")] = None,
    credential: Annotated[str | None, typer.Option(
        "--credential", envvar="FSP_DEVICE_CREDENTIAL", show_envvar=True,
        help="The device's credential (given once, at registration).")] = None,
    register: Annotated[bool, typer.Option("--register", help="Register a new device first (with --institution).")] = False,
    institution: Annotated[uuid.UUID | None, typer.Option("--institution", metavar="UUID",
                                                          help="The institution a registered device belongs to.")] = None,
    kind: Annotated[str, typer.Option("--kind", help=f"The device's kind: {', '.join(KINDS)}.")] = "cremator",
    limits: Annotated[list[str] | None, typer.Option(
        "--limit", metavar="KEY=VALUE", show_default=False,
        help=f"A limit the device has (repeatable; {', '.join(LIMIT_KEYS)}); the rest take their defaults.")] = None,
    scenario: Annotated[str, typer.Option("--scenario", help=f"One of {', '.join(SCENARIOS)}.")] = "normal",
    duration: Annotated[float, typer.Option("--duration", min=1, max=86400, metavar="S",
                                            help="Seconds to run.")] = 60.0,
    rate: Annotated[float, typer.Option("--rate", min=0.01, max=50, metavar="N",
                                        help="Batches of readings per second.")] = 1.0,
    via: Annotated[str, typer.Option("--via", help="http (the ingest endpoint) or mqtt (the province's broker).")] = "http",
    api: Annotated[str | None, typer.Option("--api", metavar="URL",
                                            help="The tenant's API root (default: where `fsp serve` serves it).")] = None,
    mqtt_url: Annotated[str | None, typer.Option("--mqtt-url", metavar="URL",
                                                 help="The broker (default: the tenant's equipment.mqtt).")] = None,
    token: Annotated[str | None, typer.Option(
        "--token", envvar="FSP_TOKEN", help="Bearer token to register with (default: one from the tenant's development "
                                            "issuer).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same readings.")] = 0,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Send a scenario's readings in real time (normal running, overheat, cold-chain-break, silent, emission,
    long-cycle), with progress every 10 s and a summary of what the ingest accepted and refused."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if via not in ("http", "mqtt"):
        fail(f"--via must be http or mqtt, not {via!r}")
    if register == (device is not None):
        fail("name the device (--device ID --credential C) or register one (--register --institution UUID)")
    if register and institution is None:
        fail("--register needs --institution UUID: the institution the device belongs to")
    if device is not None and not credential:
        fail("--device needs its credential: --credential C or $FSP_DEVICE_CREDENTIAL")
    device_limits = _limits(kind, limits or [])
    try:
        check(kind, scenario)
    except ScenarioError as err:
        fail(str(err))
    with boundary():
        api = api or local.endpoint(spec)
        if register:
            device, credential = _register(api, institution, kind, device_limits, token or _dev_token(local, spec, institution))
            typer.echo(f"registered {kind} {device} (its credential is shown once: --credential {credential})",
                       err=json_)
        broker = (mqtt_url or local.settings(spec).mqtt_url) if via == "mqtt" else None
        if via == "mqtt" and not broker:
            fail(f"{spec.slug} has no MQTT broker: set equipment.mqtt in its catalog entry, or pass --mqtt-url")
    fires = alert_after(kind, scenario, device_limits, duration)
    if fires is not None and fires > duration:
        typer.echo(f"note: {ALERTS[scenario][0]} fires about {fires:.0f} s after the start; this run lasts {duration:g} s "
                   f"(--duration {fires:.0f} or more shows it)", err=True)
    try:
        send = MqttSender(broker, spec.slug, device, credential) if broker else HttpSender(api, device, credential)
    except SimulationError as err:
        fail(str(err))
    typer.echo(f"{spec.slug}: {kind} {device}, scenario {scenario}, {duration:g} s at {rate:g}/s via {via}", err=json_)

    def progress(at: float, summary: Summary) -> None:
        typer.echo(f"  {at:6.0f} s  sent {summary.readings}  accepted {summary.accepted}  "
                   f"refused {sum(summary.refused.values())}", err=json_)

    try:
        summary = run(ticks(kind, scenario, device_limits, duration=duration, step=1 / rate, seed=seed), send,
                      duration=duration, first_seq=1 if register else first_seq(), progress=progress)
    except SimulationError as err:
        fail(str(err))
    finally:
        send.close()
    result = {"tenant": spec.slug, "device": device, "kind": kind, "scenario": scenario, "via": via,
              "duration": duration, "limits": device_limits, **summary.as_dict(),
              "alert": ALERTS[scenario][0] if scenario in ALERTS else None, "alert_after_seconds": fires}
    if register:
        result["credential"] = credential  # shown once, as the registry shows it: the only way to reuse the device
    if json_:
        print_json(result)
        return
    refused = ", ".join(f"{reason} {count}" for reason, count in summary.refused.items()) or "none"
    delivered = f"published {summary.published}" if via == "mqtt" else f"accepted {summary.accepted}, refused {refused}"
    typer.echo(f"done: {summary.batches} batch(es), {summary.readings} reading(s); {delivered}")


def _limits(kind: str, given: list[str]) -> dict[str, float]:
    if kind not in KINDS:
        fail(f"unknown device kind {kind!r}: one of {', '.join(KINDS)}")
    limits = dict(DEFAULT_LIMITS[kind])
    for item in given:
        key, sep, value = item.partition("=")
        if not sep or key not in limits:
            fail(f"--limit {item!r}: a {kind} has the limits {', '.join(f'{k}=N' for k in limits)}")
        try:
            limits[key] = float(value)
        except ValueError:
            fail(f"--limit {item!r}: {value!r} is not a number")
        if limits[key] <= 0 and key != "temperature_max_c":
            fail(f"--limit {item!r}: must be positive")
    return limits


def _register(api: str, institution: uuid.UUID, kind: str, limits: dict, token: str) -> tuple[str, str]:
    """POST /institutions/{id}/devices: the new device's id and its credential (answered once)."""
    body = {"kind": kind, "model": f"FSP-SIM-{kind}", "location": "模拟设备 (fsp devices simulate)", "limits": limits}
    try:
        answer = httpx.post(f"{api.rstrip('/')}/institutions/{institution}/devices", json=body,
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    except httpx.TransportError as err:
        fail(f"cannot reach {api} ({type(err).__name__}): is `fsp serve` running?")
    if answer.status_code not in (200, 201):
        fail(f"registering the device was refused ({answer.status_code}): {answer.text[:300]}")
    created = answer.json()
    return str(created["device"]["id"]), created["credential"]


def _dev_token(local, spec, institution: uuid.UUID) -> str:
    """A short-lived staff token from the tenant's development issuer (a Keycloak tenant needs --token)."""
    from registry.security.auth import DevelopmentIssuer
    from registry.security.keys import load_keys

    if spec.sso.provider == "keycloak":
        fail(f"{spec.slug} signs in with Keycloak: pass --token (or $FSP_TOKEN) of a staff member who registers devices")
    settings = local.settings(spec)
    issuer = DevelopmentIssuer(load_keys(settings.keys_dir).token_private_pem, issuer=settings.issuer,
                               audience=settings.token_audience)
    # least privilege: the institution's registrar may register its devices (equipment:manage), nothing more
    return issuer.mint(SUBJECT, ["registrar"], institution_id=institution, ttl_seconds=300)
