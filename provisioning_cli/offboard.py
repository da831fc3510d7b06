"""`fsp offboard TENANT --archive FILE`: a province leaves the platform for good, nothing of it lost on the way.

Steps, each reported as it ends; a failed step leaves the tenant `offboarding` (its writes refused), and running
the command again continues from where it stopped:

 1. suspend    lifecycle offboarding; the tenant's database refuses sign-ins and writes from now on
 2. ship       everything still in its outbox to the ministry (the ministry must answer)
 3. backup     a final backup beside the archive, restored into a scratch database and verified (a drill)
 4. archive    every record and the audit chain, signed with its exchange key, sealed under the backup key
 5. deregister the ministry closes the province's exchange epoch (what it received stays) and forgets its key
 6. purge      database, keys, secrets, registration, scrape target
 7. tombstone  state.json with lifecycle offboarded, the archive's name and its signing key's SM3
"""
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from provisioning_cli.backup_take import take_backup
from provisioning_cli.drill import run_drill
from provisioning_cli.lifecycle import Lifecycle, lifecycle_of, set_lifecycle
from provisioning_cli.offboard_archive import write_archive
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import now, read_json, write_state
from registry import tenant_status
from registry.exchange import outbound
from registry.exchange import service as exchange
from registry.exchange.shipper import Shipper, ShipRefused, ShipUnavailable
from registry.exchange.signing import BatchSigner, SigningKeyError
from registry.journal import Journal
from tenants import TenantSpec

ACTOR = "fsp offboard"
STEPS = ("suspend", "ship", "backup", "archive", "deregister", "purge", "tombstone")
Step = Callable[[str, str, str], None]  # (step, outcome, detail)


def offboard(local: LocalTarget, spec: TenantSpec, *, archive: Path, key: bytes, ministry_url: str,
             report: Step) -> dict[str, Any]:
    """Run the steps in order under $FSP_HOME's lock; the tombstone's content. Raises TargetError on a failed step."""
    if spec.kind != "province":
        raise TargetError(f"{spec.slug} is the ministry: only provinces are offboarded")
    archive = archive.resolve()
    with local.home.lock():
        paths = local.home.tenant(spec.slug)
        state = read_json(paths.state)
        current = lifecycle_of(state)
        if current is not None and current.state == Lifecycle.offboarded:
            raise TargetError(f"{spec.slug} was offboarded already ({current.since}); its archive: "
                              f"{(state.get('archive') or {}).get('file')}")
        if current is None or not local.is_provisioned(spec):
            raise TargetError(f"{spec.slug} is not provisioned here: there is nothing to offboard")
        if archive.is_relative_to(paths.root):
            raise TargetError(f"the archive {archive} would lie in {spec.slug}'s own directory, which offboarding "
                              "deletes: write it elsewhere")
        settings = local.settings(spec)
        with local.engine(spec) as engine:
            journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
            with Session(engine) as session:
                tenant_status.change(session, journal, state=tenant_status.SUSPENDED, reason="offboarding",
                                     actor=ACTOR)
            if set_lifecycle(state, Lifecycle.offboarding, "offboarding"):
                write_state(paths.state, state)
            report("suspend", "done", "sign-ins and writes refused")
            report("ship", *_ship_rest(local, spec, engine, ministry_url))
            directory = archive.parent / f"{spec.slug}-final-backup"
            taken = take_backup(settings, directory, key=key, fresh=True)
            drilled = run_drill(local, spec, directory, key)
            if drilled["outcome"] != "ok":
                raise TargetError(f"the final backup {taken['file']} did not restore: {drilled['problem']}")
            report("backup", "done", f"{taken['file']} (restored and verified)")
            at = datetime.now(UTC).isoformat(timespec="seconds")
            written = write_archive(settings, engine, key=key, into=archive, taken_at=at)
            report("archive", "done", f"{written['file']}: {written['rows']} rows of {written['tables']} tables, "
                                      f"audit head {written['audit_head']['seq']}")
            incarnation = tenant_status.read(engine).incarnation
        closed = _deregister(local, spec, incarnation)
        report("deregister", "done", f"the ministry closed epoch {closed.epoch} at seq {closed.acknowledged_seq}")
        purged = local._purge(spec, None)
        report("purge", "done", ", ".join(f"{resource} {outcome}" for _, resource, outcome in purged))
        tombstone = {"tenant": spec.slug, "code": spec.code, "kind": spec.kind, "target": "local",
                     "created_at": state.get("created_at"), "served": False, "offboarded_at": now(),
                     "lifecycle": state.get("lifecycle"), "history": state.get("history", []),
                     "archive": {"file": written["file"], "signing_key_sm3": written["signing_key_sm3"],
                                 "final_backup": taken["file"], "exchange_epoch": closed.epoch}}
        set_lifecycle(tombstone, Lifecycle.offboarded, f"archived to {archive.name}")
        paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_state(paths.state, tombstone)
        report("tombstone", "done", str(paths.state))
    return tombstone


def _ship_rest(local: LocalTarget, spec: TenantSpec, engine, url: str) -> tuple[str, str]:
    """Ship what the outbox still holds; the ministry must take all of it."""
    if not spec.exchange.enabled:
        return "skipped", "its exchange is switched off in the catalog"
    settings = local.settings(spec)
    try:
        with httpx.Client(timeout=10) as client:
            shipped = Shipper(engine=engine, signer=BatchSigner(settings.keys_dir), url=url, province=spec.slug,
                              province_code=spec.code, client=client, batch_size=spec.exchange.batch_size,
                              max_bytes=settings.exchange_max_batch_bytes, retry_attempts=3, retry_base_seconds=0.5,
                              while_suspended=True).ship_pending()
    except (ShipRefused, ShipUnavailable, SigningKeyError) as exc:
        raise TargetError(f"cannot ship {spec.slug}'s last events to the ministry at {url}: {exc}; {spec.slug} stays "
                          f"offboarding (writes refused): run `fsp offboard {spec.slug}` again once it can") from None
    pending = outbound.outbox_position(engine)["pending"]
    if pending:
        raise TargetError(f"{pending} events of {spec.slug} are still not shipped: run `fsp offboard` again")
    return "done", f"{shipped.shipped} events shipped, acknowledged through {shipped.acknowledged_through}"


def _deregister(local: LocalTarget, spec: TenantSpec, incarnation: str | None):
    """The ministry closes the province's current exchange epoch (audited in its own registry)."""
    ministry = local.catalog.ministry
    settings = local.settings(ministry)
    with local.engine(ministry) as engine, Session(engine) as session:
        journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
        return exchange.close_province(session, province=spec.slug, province_code=spec.code, incarnation=incarnation,
                                       journal=journal, actor=ACTOR)
