"""A case's facts as the registry stores and ships them. The fields are CaseFacts's; nothing here lists them again:
personal data is encrypted, indexed and masked on the way in and decrypted on the way out."""
import json

from registry.cases.models import Case, CaseFacts, CasePublic
from registry.context import TenantContext
from registry.security.masking import mask_id_number, mask_phone

ID_CONTEXT = "cases.id_number"
PHONE_CONTEXT = "cases.informant_phone"
# the facts stored as they are; the ID number and the informant have columns of their own
_PERSONAL = {"id_number", "informant"}
PLAIN_FACTS = tuple(name for name in CaseFacts.model_fields if name not in _PERSONAL)


def stored_columns(facts: CaseFacts, ctx: TenantContext) -> dict:
    """The columns of validated facts, with the ID number and the informant's phone encrypted, indexed, masked."""
    columns = facts.model_dump(exclude=_PERSONAL)
    number = facts.id_number
    columns.update(
        id_number_cipher=ctx.encrypt(ID_CONTEXT, number) if number else None,
        id_number_index=ctx.blind_index(number) if number else None,
        id_number_masked=mask_id_number(number) if number else None,
        informant_name=facts.informant.name, informant_relation=facts.informant.relation,
        informant_phone_cipher=ctx.encrypt(PHONE_CONTEXT, facts.informant.phone),
        informant_phone_masked=mask_phone(facts.informant.phone),
    )
    return columns


def stored_facts(case: Case, ctx: TenantContext) -> dict:
    """The facts of a stored case, decrypted: what a correction starts from."""
    return {
        **{name: getattr(case, name) for name in PLAIN_FACTS},
        "id_number": ctx.decrypt(ID_CONTEXT, case.id_number_cipher) if case.id_number_cipher else None,
        "informant": {"name": case.informant_name, "relation": case.informant_relation,
                      "phone": ctx.decrypt(PHONE_CONTEXT, case.informant_phone_cipher)},
    }


def event_payload(public: CasePublic, person_ref: str | None) -> dict:
    """A case event as the outbox keeps it and the ministry receives it: the masked case and the person's
    cross-province blind index, never the number."""
    return {**public.model_dump(mode="json"), "person_ref": person_ref}


def event_payload_text(public: CasePublic, person_ref: str | None) -> str:
    """`event_payload` as the outbox stores it (JSON text), serialised by pydantic in one step: a backfill makes
    millions. The same JSON value as `json.dumps(event_payload(...))`."""
    case = public.__pydantic_serializer__.to_json(public).decode()
    return f'{case[:-1]},"person_ref":{json.dumps(person_ref)}}}'
