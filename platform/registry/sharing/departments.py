"""Which departments receive death notices, why, and which fields each may have (least privilege).

The plan asks for exchange with public security (household deregistration), human resources and social
security (pension stop), minimum living allowance (低保), marriage registration and health (death medical
certificates). Each gets only the fields its task needs: health, which reconciles certificates, never gets an
ID number; marriage registration never gets the cause of death.
"""
from dataclasses import dataclass

# a case is shared once a reviewer registered it (a declaration may still be wrong), or when it was backfilled;
# a correction of a case already shared is shared again (a wrong ID number must not stay with public security)
SHARED_EVENTS = ("case.registered", "case.imported", "case.corrected")
CONFIRMING_EVENTS = ("case.registered", "case.imported")

IDENTITY = ("id_type", "id_number", "name", "sex", "birth_date")


@dataclass(frozen=True)
class Department:
    key: str
    name_zh: str
    purpose: str
    fields: tuple[str, ...]


DEPARTMENTS: dict[str, Department] = {d.key: d for d in (
    Department("public_security", "公安", "household deregistration (户口注销)",
               (*IDENTITY, "household_region", "death_at", "death_certificate_no")),
    Department("social_security", "人力资源社会保障", "stop pensions and social insurance (养老金停发)",
               (*IDENTITY, "death_at")),
    Department("minimum_living", "最低生活保障", "stop the minimum living allowance (低保)",
               (*IDENTITY, "household_region", "death_at")),
    Department("marriage", "婚姻登记", "update the marital status record",
               ("id_type", "id_number", "name", "birth_date", "death_at")),
    Department("health", "卫生健康", "reconcile death medical certificates (死亡医学证明)",
               ("name", "sex", "birth_date", "death_at", "death_certificate_no", "death_manner", "cause_category")),
)}
