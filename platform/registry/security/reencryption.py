"""Every column encrypted with the field key, and the pass that moves its rows to the newest key version.

Run by `fsp keys reencrypt` (or `fsp keys rotate --field --reencrypt`), not in the background of `fsp serve`: an
operator starts it when the load allows, watches its progress, and it runs once however many replicas serve.
It is resumable by construction: each batch commits, and a rerun picks only rows not yet at the newest version.
Each row is replaced only if it still holds the ciphertext read (compare and set), so a write by the running
registry in between is never overwritten. Reads work throughout: every version stays in the ring until retired.
"""
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from registry.security import crypto
from registry.security.field_keys import FieldKeyRing


@dataclass(frozen=True)
class EncryptedField:
    table: str
    key: str  # the primary key column
    column: str
    # the SM4-GCM context: the field's name, or a template naming an id (`{id}`, the value of `context_column`)
    context: str
    binary: bool = False
    context_column: str | None = None

    def context_of(self, context_value: object) -> bytes:
        return self.context.format(id=uuid.UUID(str(context_value)) if self.context_column else None).encode()


FIELDS = (
    EncryptedField("cases", "id", "id_number_cipher", "cases.id_number"),
    EncryptedField("cases", "id", "informant_phone_cipher", "cases.informant_phone"),
    EncryptedField("staff_sessions", "id", "access_token", "staff_session.access_token"),
    EncryptedField("staff_sessions", "id", "refresh_token", "staff_session.refresh_token"),
    EncryptedField("staff_sessions", "id", "pending", "staff_session.pending"),
    EncryptedField("bookings", "id", "for_name_enc", "booking.for_name"),
    EncryptedField("bookings", "id", "for_phone_enc", "booking.for_phone"),
    EncryptedField("remote_farewells", "booking_id", "join_link_enc", "farewell.join_link"),
    EncryptedField("farewell_invitations", "id", "name_enc", "farewell.invitee_name"),
    EncryptedField("farewell_invitations", "id", "phone_enc", "farewell.invitee_phone"),
    EncryptedField("complaints", "id", "text_encrypted", "complaint.text"),
    EncryptedField("complaints", "id", "contact_encrypted", "complaint.contact"),
    EncryptedField("complaints", "id", "answer_encrypted", "complaint.answer"),
    EncryptedField("memorials", "id", "consented_by_encrypted", "memorial.consented_by"),
    EncryptedField("approvals", "id", "details_cipher", "approvals.details:{id}", context_column="id"),
    EncryptedField("approval_attachments", "id", "content_cipher", "approvals.attachment:{id}", binary=True,
                   context_column="approval_id"),
)


def _version(ring: FieldKeyRing, spec: EncryptedField, row) -> int:
    if spec.binary:
        return ring.sealed_version(bytes(row.value), context=spec.context_of(row.context))
    return crypto.ciphertext_version(row.value)


def _rows(engine: Engine, spec: EncryptedField, batch: int) -> Iterator[list]:
    """The field's non-empty rows (key, context, value) in batches, in key order (a fresh query per batch)."""
    after = None
    while True:
        where = f"{spec.column} IS NOT NULL" + (f" AND {spec.key} > :after" if after is not None else "")
        with engine.connect() as connection:
            rows = connection.execute(text(
                f"SELECT {spec.key} AS key, {spec.context_column or spec.key} AS context, {spec.column} AS value "
                f"FROM {spec.table} WHERE {where} ORDER BY {spec.key} LIMIT {batch}"), {"after": after}).all()
        if not rows:
            return
        yield rows
        after = rows[-1].key


def _exists(engine: Engine, table: str) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text(f"SELECT 1 FROM {table} LIMIT 1"))
        return True
    except DBAPIError:  # not yet migrated this far
        return False


def versions_in_use(engine: Engine, ring: FieldKeyRing, *, batch: int = 500) -> dict[int, int]:
    """How many encrypted values each field key version holds."""
    counts: dict[int, int] = {}
    for spec in FIELDS:
        if not _exists(engine, spec.table):
            continue
        for rows in _rows(engine, spec, batch):
            for row in rows:
                version = _version(ring, spec, row)
                counts[version] = counts.get(version, 0) + 1
    return counts


def reencrypt(engine: Engine, ring: FieldKeyRing, *, batch: int = 200,
              progress: Callable[[str, int], None] = lambda field, moved: None) -> dict[str, int]:
    """Move every value not under the newest version to it; returns how many moved per `table.column`."""
    target = ring.current_version
    moved: dict[str, int] = {}
    for spec in FIELDS:
        if not _exists(engine, spec.table):
            continue
        name = f"{spec.table}.{spec.column}"
        moved[name] = 0
        for rows in _rows(engine, spec, batch):
            with engine.begin() as connection:  # one transaction per batch: an interrupted pass keeps what it did
                for row in rows:
                    if _version(ring, spec, row) == target:
                        continue
                    context, old = spec.context_of(row.context), row.value
                    new = (ring.seal(ring.open(bytes(old), context=context), context=context) if spec.binary
                           else ring.encrypt(ring.decrypt(old, context=context), context=context))
                    changed = connection.execute(text(
                        f"UPDATE {spec.table} SET {spec.column} = :new WHERE {spec.key} = :key AND {spec.column} = :old"),
                        {"new": new, "key": row.key, "old": old}).rowcount
                    moved[name] += changed
            progress(name, moved[name])
    return moved
