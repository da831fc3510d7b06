"""The offboarding archive: every record of a tenant and its audit chain, signed by the tenant and sealed.

Inside a backup file's envelope (provisioning_cli.backup_archive: SM4-GCM under the backup key, which the operator
keeps apart from the archive; the header names tenant and key id without the key):

    export.json         what was exported: per table its file, row count and SM3; the audit chain's head
    export.sig          the tenant's exchange key's signature (SM2) of exactly export.json's bytes
    signing-key.pem     that key's public half (its SM3 is also kept in the tenant's tombstone state.json)
    records/<t>.jsonl   one JSON object per row, in primary-key order (encrypted fields stay encrypted)
    keys/...            the tenant's keys, so encrypted fields can still be opened by whoever holds the backup key

`verify` opens it with the backup key and checks the envelope, every checksum, the signature and the audit
chain's links; a change to any byte is refused.
"""
import base64
import json
import shutil
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, select

from provisioning_cli.backup_archive import BackupFileError, file_entry, read_header, seal, unseal
from provisioning_cli.backup_facts import database_facts
from provisioning_cli.backup_take import private_workdir
from registry.config import Settings
from registry.exchange.signing import BatchSigner, public_key_set
from registry.security import crypto

KIND = "offboarding-archive"
EXPORT, SIGNATURE, PUBLIC_KEY = "export.json", "export.sig", "signing-key.pem"
AUDIT_TABLE = "audit_entries"


def write_archive(settings: Settings, engine: Engine, *, key: bytes, into: Path, taken_at: str) -> dict[str, Any]:
    """Export the tenant's database into a signed, sealed archive at `into`; what it holds (for the report)."""
    into.parent.mkdir(parents=True, exist_ok=True)
    with private_workdir(into.parent) as work:
        (work / "records").mkdir()
        tables, facts = _export(engine, work / "records")
        export = {"kind": KIND, "tenant": settings.tenant_slug, "code": settings.tenant_code, "taken_at": taken_at,
                  "tables": tables, "audit_head": facts["audit_head"], "migration": facts["migration"]}
        export_bytes = json.dumps(export, ensure_ascii=False, sort_keys=True, indent=1).encode()
        (work / EXPORT).write_bytes(export_bytes)
        (work / SIGNATURE).write_text(BatchSigner(settings.keys_dir).sign(export_bytes))
        (work / PUBLIC_KEY).write_bytes(public_key_set(settings.keys_dir))
        files = [EXPORT, SIGNATURE, PUBLIC_KEY, *(table["file"] for table in tables.values())]
        (work / "keys").mkdir(mode=0o700)
        for path in sorted(settings.keys_dir.iterdir()):
            if path.is_file():
                shutil.copyfile(path, work / "keys" / path.name)
                files.append(f"keys/{path.name}")
        manifest = {"format": 1, "kind": KIND, "tenant": settings.tenant_slug, "code": settings.tenant_code,
                    "taken_at": taken_at, "files": {name: file_entry(work / name) for name in files}}
        partial = into.with_name(into.name + ".partial")
        seal(work, manifest, key=key, into=partial)
        partial.replace(into)
    return {"file": str(into), "bytes": into.stat().st_size, "tables": len(tables),
            "rows": sum(table["rows"] for table in tables.values()), "audit_head": facts["audit_head"],
            "signing_key_sm3": crypto.sm3_hex(public_key_set(settings.keys_dir))}


def _export(engine: Engine, into: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Every table as JSON lines, read in one transaction; ({table: {file, rows, sm3}}, database facts)."""
    metadata = MetaData()
    with engine.connect() as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        metadata.reflect(connection)
        tables = {}
        for name, table in sorted(metadata.tables.items()):
            path = into / f"{name}.jsonl"
            order = list(table.primary_key.columns) or list(table.columns)
            rows = 0
            with path.open("w", encoding="utf-8") as out:
                for row in connection.execute(select(table).order_by(*order)).mappings():
                    out.write(json.dumps(dict(row), ensure_ascii=False, sort_keys=True, default=_plain) + "\n")
                    rows += 1
            tables[name] = {"file": f"records/{path.name}", "rows": rows, "sm3": crypto.sm3_file(path)}
        facts = database_facts(connection)
    return tables, facts


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    raise TypeError(f"cannot export a {type(value).__name__}")


def verify(file: Path, *, key: bytes, work_near: Path, expected_key_sm3: str | None = None) -> dict[str, Any]:
    """Open the archive and check it whole; what it holds. Raises BackupFileError naming what is wrong."""
    header = read_header(file)
    tenant = header.get("tenant")
    if not isinstance(tenant, str):
        raise BackupFileError(f"{file} names no tenant: not an offboarding archive")
    with private_workdir(work_near) as work:
        manifest = unseal(file, key=key, tenant=tenant, work=work)  # the envelope and every file's checksum
        if manifest.get("kind") != KIND:
            raise BackupFileError(f"{file} is a backup, not an offboarding archive: `fsp restore` opens it")
        export_bytes = (work / EXPORT).read_bytes()
        public = (work / PUBLIC_KEY).read_text()
        if not crypto.verify_signature(crypto.parse_public_keys(public), export_bytes, (work / SIGNATURE).read_text()):
            raise BackupFileError(f"{file}: the export's signature does not verify")
        key_sm3 = crypto.sm3_hex(public.encode())
        if expected_key_sm3 and key_sm3 != expected_key_sm3:
            raise BackupFileError(f"{file} was signed by another key than the one recorded when {tenant} was offboarded")
        export = json.loads(export_bytes)
        for name, table in export["tables"].items():
            if crypto.sm3_file(work / table["file"]) != table["sm3"]:
                raise BackupFileError(f"{file}: the records of {name} do not match the signed export")
        head = export["audit_head"]
        entries, last_hash = _audit_links(work / export["tables"][AUDIT_TABLE]["file"])
        if entries and last_hash != head["hash"]:
            raise BackupFileError(f"{file}: the exported audit chain does not end at the head the export records")
        return {"file": str(file), "tenant": tenant, "code": export["code"], "taken_at": export["taken_at"],
                "tables": len(export["tables"]), "rows": sum(t["rows"] for t in export["tables"].values()),
                "audit_entries": entries, "audit_head": head, "signing_key_sm3": key_sm3,
                "signed_by_recorded_key": bool(expected_key_sm3), "outcome": "ok"}


def _audit_links(path: Path) -> tuple[int, str | None]:
    """Each exported audit entry links to the one before it (its prev_hash is that entry's hash); (how many, the
    last one's hash)."""
    previous, count = None, 0
    with path.open(encoding="utf-8") as rows:
        for line in rows:
            entry = json.loads(line)
            if previous is not None and (entry["seq"] != previous["seq"] + 1 or entry["prev_hash"] != previous["hash"]):
                raise BackupFileError(f"the audit chain breaks at entry {entry['seq']}")
            previous, count = entry, count + 1
    return count, previous["hash"] if previous else None
