"""Every key's identity (its key id) recorded beside the keys and in the tenant's database, so a lost or swapped
key file is refused instead of silently replaced: data sealed, encrypted or indexed with the old key would fail.

`protect_keys` runs before keys are made (startup, `fsp up`); `record_keys` after. Only the development token key
may be replaced: tokens it signed expire within minutes.
"""
import json
import os
import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Field, Session, SQLModel, select

from registry.db_types import UTCDateTime, utcnow
from registry.security import crypto
from registry.security.field_keys import versions_on_disk
from registry.security.keys import (
    AUDIT_KEY,
    CERTIFICATE_KEY,
    FIELD_KEY,
    INDEX_KEY,
    PERSON_MATCH_KEY,
    TOKEN_KEY,
    KeyMaterialError,
)
from registry.security.reencryption import FIELDS

# the key ids as last recorded, beside the keys (the database holds the same)
KEY_IDS = "key-ids.json"
_FIELD_VERSION = re.compile(r"^field-sm4\.v[0-9]+\.key$")
IDENTIFIED_KEYS = (FIELD_KEY, INDEX_KEY, AUDIT_KEY, CERTIFICATE_KEY, PERSON_MATCH_KEY, TOKEN_KEY)
# tokens it signed expire within minutes: a new one costs a sign-in, no data
REPLACEABLE = frozenset({TOKEN_KEY})
# personal data encrypted with the field key: (table, column, SM4-GCM context)
ENCRYPTED_COLUMNS = tuple((f.table, f.column, f.context) for f in FIELDS if not f.binary and not f.context_column)
BLIND_INDEX_COLUMNS = (("cases", "id_number_index"),)
# keys whose use the database shows (depended_on); the others are guarded once recorded
_CHECKABLE = frozenset({FIELD_KEY, INDEX_KEY, AUDIT_KEY, CERTIFICATE_KEY})
# each key's name for people, and what it did that a new key would undo
_ROLES = {FIELD_KEY: ("field key", "encrypted the ID numbers, phone numbers and staff sessions stored"),
          INDEX_KEY: ("blind-index key", "made the ID-number indexes searches and duplicate checks use"),
          AUDIT_KEY: ("audit key", "sealed this tenant's audit chain"),
          CERTIFICATE_KEY: ("certificate signing key", "signed the QR codes of issued certificates"),
          PERSON_MATCH_KEY: ("person-matching key", "made the person references the ministry matches people by")}


class KeyFingerprint(SQLModel, table=True):
    """The identity of one of the tenant's keys (never the key): which key the data here depends on."""
    __tablename__ = "key_fingerprints"

    name: str = Field(primary_key=True, max_length=64)
    key_id: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


def key_ids(keys_dir: Path) -> dict[str, str]:
    """The id of each identified key file present in `keys_dir` (every field key version among them)."""
    names = [*IDENTIFIED_KEYS, *(path.name for path in versions_on_disk(keys_dir).values())]
    return {name: crypto.key_id((keys_dir / name).read_bytes())
            for name in dict.fromkeys(names) if (keys_dir / name).is_file()}


def _identified(name: str) -> str | None:
    """The key kind a recorded name is (a later field key version is a field key), or None."""
    return FIELD_KEY if _FIELD_VERSION.match(name) else name if name in IDENTIFIED_KEYS else None


def recorded_beside(keys_dir: Path) -> dict[str, str]:
    try:
        return json.loads((keys_dir / KEY_IDS).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise KeyMaterialError(f"{keys_dir / KEY_IDS} is unreadable ({exc}): restore it with the keys") from None


def recorded_in_database(engine: Engine) -> dict[str, str]:
    try:
        with Session(engine) as session:
            return {row.name: row.key_id for row in session.exec(select(KeyFingerprint))}
    except DBAPIError:  # before the table exists: nothing recorded
        return {}


def depended_on(engine: Engine) -> set[str]:
    """The keys the data in the database already depends on, whether or not their ids were recorded."""
    checks = {FIELD_KEY: [f"SELECT 1 FROM {t} WHERE {c} IS NOT NULL" for t, c, _ in ENCRYPTED_COLUMNS],
              INDEX_KEY: [f"SELECT 1 FROM {t} WHERE {c} IS NOT NULL" for t, c in BLIND_INDEX_COLUMNS],
              AUDIT_KEY: ["SELECT 1 FROM audit_entries WHERE mac IS NOT NULL"],
              CERTIFICATE_KEY: ["SELECT 1 FROM certificates"]}
    # one statement for a migrated database (every app start asks); a query at a time for one part-way there
    either = [" OR ".join(f"EXISTS ({query})" for query in queries) for queries in checks.values()]
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT " + ", ".join(
                f"CASE WHEN {condition} THEN 1 ELSE 0 END" for condition in either))).one()
        return {name for name, found in zip(checks, row, strict=True) if found}
    except DBAPIError:
        pass
    found = set()
    for name, queries in checks.items():
        for query in queries:
            try:
                with engine.connect() as connection:
                    if connection.execute(text(query + " LIMIT 1")).first() is not None:
                        found.add(name)
                        break
            except DBAPIError:  # no such table yet
                continue
    return found


def key_problems(engine: Engine, keys_dir: Path) -> list[str]:
    """Why the keys in `keys_dir` are not the ones this tenant's data depends on (empty: they are).

    A lost or different key is a problem where data depends on it; where the database can tell that it does not
    (no encrypted value, no blind index, no sealed entry, no certificate yet), a new key harms nothing."""
    present, depends, problems = key_ids(keys_dir), depended_on(engine), []
    for source, recorded in (("the database", recorded_in_database(engine)), (keys_dir / KEY_IDS, recorded_beside(keys_dir))):
        for name, expected in recorded.items():
            kind = _identified(name)
            if kind is None or kind in REPLACEABLE or (kind in _CHECKABLE and kind not in depends):
                continue
            if name not in present:
                problems.append(_lost(keys_dir, name, f"its id {expected} is recorded in {source}"))
            elif present[name] != expected:
                label, did = _ROLES[kind]
                problems.append(f"the {label} {keys_dir / name} is not the key {expected} recorded in {source} (it is "
                                f"{present[name]}): it was replaced, but the original {did}; {_RESTORE}")
    # the field key counts as present while any version is (version 1 may have been retired)
    held = set(present) | ({FIELD_KEY} if versions_on_disk(keys_dir) else set())
    for name in sorted(depends - held):
        problems.append(_lost(keys_dir, name, "the database shows data depends on it"))
    return list(dict.fromkeys(problems))


_RESTORE = "restore the keys from a backup (`fsp restore TENANT --from FILE`, or its keys/ folder)"


def _lost(keys_dir: Path, name: str, why: str) -> str:
    label, did = _ROLES[_identified(name) or name]
    return f"the {label} {keys_dir / name} is missing but {did} ({why}): {_RESTORE}; a new key would not fit that data"


def protect_keys(engine: Engine, keys_dir: Path) -> None:
    """Refuse to go on (and so to make a new key) when a key the data depends on is missing or different."""
    problems = key_problems(engine, keys_dir)
    if problems:
        raise KeyMaterialError("; ".join(problems))


def record_keys(engine: Engine, keys_dir: Path) -> dict[str, str]:
    """Write the present keys' ids beside them and into the database (a replaced token key's id is updated)."""
    ids = key_ids(keys_dir)
    if recorded_beside(keys_dir) != ids:
        _write_private(keys_dir / KEY_IDS, json.dumps(ids, indent=1, sort_keys=True).encode())
    recorded = recorded_in_database(engine)
    # a database not yet migrated has no table for them: its first migrated start records them
    if recorded != ids and inspect(engine).has_table(KeyFingerprint.__tablename__):
        with Session(engine) as session:
            for name, key_id in ids.items():
                if name not in recorded:
                    session.add(KeyFingerprint(name=name, key_id=key_id, recorded_at=utcnow()))
                elif recorded[name] != key_id:
                    session.merge(KeyFingerprint(name=name, key_id=key_id, recorded_at=utcnow()))
            session.commit()
    return ids


def _write_private(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, path)


def forget_key(engine: Engine, keys_dir: Path, name: str) -> None:
    """A retired key's id leaves the records (beside the keys and in the database): its absence is then intended."""
    beside = recorded_beside(keys_dir)
    if beside.pop(name, None) is not None:
        _write_private(keys_dir / KEY_IDS, json.dumps(beside, indent=1, sort_keys=True).encode())
    if inspect(engine).has_table(KeyFingerprint.__tablename__):
        with Session(engine) as session:
            if (row := session.get(KeyFingerprint, name)) is not None:
                session.delete(row)
                session.commit()
