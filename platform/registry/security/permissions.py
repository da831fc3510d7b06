"""Realm roles and what each may do; least privilege, and 三员分立 for the administrators."""
from enum import StrEnum


class Permission(StrEnum):
    institutions_write = "institutions:write"
    publications_write = "publications:write"  # policies, guides and notices (政策法规, 办事指南, 通知公告)
    cases_read = "cases:read"
    cases_write = "cases:write"
    cases_review = "cases:review"
    cases_import = "cases:import"  # backfill of archived cases
    personal_data_read = "personal-data:read"
    cremations_write = "cremations:write"
    remains_write = "remains:write"
    audit_read = "audit:read"
    outbox_read = "outbox:read"
    national_read = "national:read"  # the ministry's national database
    statistics_read = "statistics:read"  # a province's own statistics, indicators and KPIs, as the ministry counts them
    # online services (网上办事) as a citizen: their own applications, bookings, memorials and complaints only
    services_apply = "services:apply"
    # online approvals (网上审批): the queue, the acceptance and review, and the decision are three permissions so
    # that who examines an application is not who decides it (行政许可法 第三十四条 审查, 第三十七条 决定)
    approvals_read = "approvals:read"
    approvals_review = "approvals:review"
    approvals_decide = "approvals:decide"
    # reservations (网上预约): an institution's bookable resources and the bookings of them, its staff only
    bookings_manage = "bookings:manage"
    # complaints (投诉) and online memorials (网上祭扫), handled by staff
    complaints_read = "complaints:read"  # read complaints (text and answer decrypted) to handle them
    complaints_answer = "complaints:answer"  # answer one: the institution's staff, or the bureau
    complaints_handle = "complaints:handle"  # assign, close with upheld or not, run the overdue sweep: the province
    complaints_counts = "complaints:counts"  # counts per institution, no personal data: credit evaluation
    memorials_moderate = "memorials:moderate"  # review memorial messages held by the word filter, remove abuse
    # an institution's equipment (cremators, cold storage, emission monitors): register, rotate, revoke, watch
    equipment_manage = "equipment:manage"
    # payments (网上缴费): the province's payment orders and the daily reconciliation with the provider; its
    # finance is the province's, so no institution-bound role sees them
    payments_manage = "payments:manage"
    # satisfaction ratings (满意度评价): read the ratings and their summary; a registrar its own institution's only
    ratings_read = "ratings:read"
    # institution credit evaluation (信用评价): the province records inspections and penalties, evaluates and
    # changes the red and black lists; an institution's staff read their own institution's score and its facts
    credit_manage = "credit:manage"
    credit_read_own = "credit:read-own"


class Role(StrEnum):
    system_admin = "system-admin"
    security_admin = "security-admin"
    audit_admin = "audit-admin"
    provincial_admin = "provincial-admin"
    registrar = "registrar"
    reviewer = "reviewer"
    auditor = "auditor"
    ministry_operator = "ministry-operator"
    # a member of the public signed in through the province's government-service identity (brokered by the realm)
    citizen = "citizen"


P = Permission
# approvals: the reviewer accepts (受理) and examines, the provincial admin decides; neither can do the other's
# step, and no institution-bound role (a registrar) or the ministry sees applicants' approvals at all
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.system_admin: frozenset({P.outbox_read}),
    Role.security_admin: frozenset(),
    Role.audit_admin: frozenset({P.audit_read}),
    # the province supervises institutions and publishes public content: it assigns, closes, counts and moderates
    Role.provincial_admin: frozenset({P.institutions_write, P.publications_write, P.cases_read, P.cases_import,
                                      P.approvals_read, P.approvals_decide, P.bookings_manage, P.complaints_read,
                                      P.complaints_answer, P.complaints_handle, P.complaints_counts,
                                      P.memorials_moderate, P.equipment_manage, P.payments_manage, P.ratings_read}),
    # a registrar serves families at the counter and answers complaints, each bound to its own institution
    Role.registrar: frozenset({P.cases_read, P.cases_write, P.cremations_write, P.remains_write, P.bookings_manage,
                               P.complaints_read, P.complaints_answer, P.equipment_manage, P.ratings_read}),
    Role.reviewer: frozenset({P.cases_read, P.cases_review, P.personal_data_read, P.approvals_read, P.approvals_review}),
    Role.auditor: frozenset({P.audit_read}),
    # the ministry sees complaint counts for credit evaluation, never a complaint's text or contact
    Role.ministry_operator: frozenset({P.outbox_read, P.cases_read, P.national_read, P.complaints_counts}),
    Role.citizen: frozenset({P.services_apply}),
}
# credit evaluation (信用评价): granted in one place; the ministry reads the lists through national:read
ROLE_PERMISSIONS[Role.provincial_admin] |= {P.credit_manage}
ROLE_PERMISSIONS[Role.registrar] |= {P.credit_read_own}
# the province's own figures (statistics for decisions, 辅助决策): its administrator; no personal data in them
ROLE_PERMISSIONS[Role.provincial_admin] |= {P.statistics_read}
# who works in the workbench: every role but the public's
STAFF_ROLES = tuple(role for role in Role if role is not Role.citizen)
# roles whose work is tied to one institution: writes are limited to it
INSTITUTION_BOUND = frozenset({Role.registrar})
# 三员分立 (GB/T 22239): system, security and audit administrators are three different people
SEPARATED_ADMIN_ROLES = frozenset({Role.system_admin.value, Role.security_admin.value, Role.audit_admin.value})
# no two roles of one set on one person: the three administrators, and the auditor who checks what the system
# and security administrators do. The one definition the registry (tokens) and provisioning (grants) both apply.
SEPARATED_ROLE_SETS: tuple[frozenset[str], ...] = (
    SEPARATED_ADMIN_ROLES,
    frozenset({Role.system_admin.value, Role.security_admin.value, Role.auditor.value}),
)
# administrative roles: whoever holds one signs in with a second factor (TOTP)
ADMINISTRATIVE_ROLES = SEPARATED_ADMIN_ROLES | {Role.provincial_admin.value, Role.ministry_operator.value}


def permissions_of(roles: frozenset[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for name in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue  # roles of other applications in the same realm grant nothing here
    return frozenset(granted)


def separation_conflict(roles: frozenset[str] | set[str]) -> tuple[str, ...]:
    """The roles that must never be held together, sorted, among `roles`; empty when the set is allowed."""
    for separated in SEPARATED_ROLE_SETS:
        held = roles & separated
        if len(held) > 1:
            return tuple(sorted(held))
    return ()
