"""Who may do what: every role × every operation × own institution, another institution, another tenant.

The one place that says it. No cell is written by hand: the answer is derived from the permission table
(`ROLE_PERMISSIONS`, `INSTITUTION_BOUND`) and the two declared tables below, which say what each route needs
(OPERATIONS) and what an institution-bound role gets on another institution's target (OTHER_INSTITUTION):

- a public route answers everyone, whatever the token;
- a token of another tenant's issuer is 401;
- a role without the route's permission is 403;
- an institution-bound role on another institution's target gets OTHER_INSTITUTION's answer (a case is hidden:
  404, exactly like a case that does not exist);
- anything else succeeds (the route's own 200 or 201).

Every target is in the state the operation needs, so a refusal can only come from authorisation. A route of the
app missing from OPERATIONS fails the test. Data is built once per backend; a target an operation used up (a
case it cremated) is built again for the next caller.
"""
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from assertions import last_audit
from factories import (
    YEAR,
    booking_payload,
    case_payload,
    create_publication,
    create_resource,
    cremator_cycle,
    device_payload,
    end_booking,
    facility_approval_payload,
    inspection_payload,
    institution_payload,
    penalty_payload,
    publication_payload,
    reading,
    register_device,
    remote_farewell_payload,
    resource_payload,
    slot_start,
    transport_approval_payload,
)
from registry import online_status, query_codes
from registry.cross_province import service as cross_province
from registry.exchange.matches import ReturnedMatch
from registry.limits import AttemptLimiter
from registry.payments.provider import Notice
from registry.payments.runtime import Payments
from registry.query_codes import PublicStatus
from registry.security import crypto
from registry.security.auth import DevelopmentIssuer
from registry.security.permissions import INSTITUTION_BOUND, ROLE_PERMISSIONS, Permission, Role

P = Permission
SCOPES = ("own_institution", "other_institution", "other_tenant")
ROLES: tuple[Role | None, ...] = (*Role, None)  # None: a valid token without any role of this application
_serial = itertools.count(1)


@dataclass(frozen=True)
class Operation:
    permission: Permission | None  # None: public
    target: str  # what the request acts on, built by World._prepare: "none", "institution", a case's state, or a
    # publication's ("publication_draft", "publication_published")


CASE = "/api/v1/cases/{case_id}"
APPROVAL = "/api/v1/approvals/{approval_id}"
MINE = "/api/v1/my/bookings/{booking_id}"
CREDIT_LISTING = "/api/v1/credit/scores/{institution_id}/{year}/listing"
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/healthz"): Operation(None, "none"),
    ("GET", "/readyz"): Operation(None, "none"),
    ("GET", "/metrics"): Operation(None, "none"),
    ("GET", "/.well-known/jwks.json"): Operation(None, "none"),
    ("GET", "/.well-known/fsp-certificate-key"): Operation(None, "none"),
    ("POST", "/api/v1/certificate-verifications"): Operation(None, "none"),
    ("POST", "/api/v1/status-lookups"): Operation(None, "none"),
    ("GET", "/api/v1/certificates/{certificate_id}"): Operation(P.cases_read, "certified"),
    ("GET", "/api/v1/openapi.json"): Operation(None, "none"),
    ("GET", "/api/v1/docs"): Operation(None, "none"),
    ("GET", "/docs/oauth2-redirect"): Operation(None, "none"),
    ("GET", "/api/v1/institutions"): Operation(None, "none"),
    ("POST", "/api/v1/institutions"): Operation(P.institutions_write, "none"),
    ("GET", "/api/v1/institutions/{institution_id}"): Operation(None, "institution"),
    ("PATCH", "/api/v1/institutions/{institution_id}"): Operation(P.institutions_write, "institution"),
    ("GET", "/api/v1/institutions/{institution_id}/service-items"): Operation(None, "institution"),
    ("POST", "/api/v1/institutions/{institution_id}/service-items"): Operation(P.institutions_write, "institution"),
    ("POST", "/api/v1/institutions/{institution_id}/service-items/{item_id}/end"): Operation(
        P.institutions_write, "priced"),
    ("GET", "/api/v1/institutions/{institution_id}/disclosure"): Operation(None, "institution"),
    ("PUT", "/api/v1/institutions/{institution_id}/disclosure"): Operation(P.institutions_write, "institution"),
    ("GET", "/api/v1/publications"): Operation(None, "none"),
    ("POST", "/api/v1/publications"): Operation(P.publications_write, "none"),
    ("GET", "/api/v1/publications/all"): Operation(P.publications_write, "none"),
    ("GET", "/api/v1/publications/all/{publication_id}"): Operation(P.publications_write, "publication_draft"),
    ("GET", "/api/v1/publications/{publication_id}"): Operation(None, "publication_published"),
    ("PATCH", "/api/v1/publications/{publication_id}"): Operation(P.publications_write, "publication_published"),
    ("POST", "/api/v1/publications/{publication_id}/publish"): Operation(P.publications_write, "publication_draft"),
    ("POST", "/api/v1/publications/{publication_id}/withdraw"): Operation(
        P.publications_write, "publication_published"),
    ("POST", "/api/v1/cases"): Operation(P.cases_write, "institution"),
    ("POST", "/api/v1/cases/imports"): Operation(P.cases_import, "institution"),
    ("POST", "/api/v1/cases/imports/bulk"): Operation(P.cases_import, "institution"),
    ("GET", f"{CASE}/import-proof"): Operation(P.audit_read, "imported"),
    ("GET", "/api/v1/cases"): Operation(P.cases_read, "declared"),
    ("POST", "/api/v1/cases/search"): Operation(P.cases_read, "declared"),
    ("GET", CASE): Operation(P.cases_read, "declared"),
    ("GET", f"{CASE}/id-number"): Operation(P.personal_data_read, "declared"),
    ("POST", f"{CASE}/corrections"): Operation(P.cases_write, "declared"),
    ("GET", f"{CASE}/corrections"): Operation(P.cases_read, "declared"),
    ("POST", f"{CASE}/register"): Operation(P.cases_review, "declared"),
    ("POST", f"{CASE}/close"): Operation(P.cases_write, "cremated"),
    ("POST", f"{CASE}/archive"): Operation(P.cases_review, "closed"),
    ("POST", f"{CASE}/cremation"): Operation(P.cremations_write, "registered"),
    ("GET", f"{CASE}/cremation"): Operation(P.cases_read, "cremated"),
    ("GET", f"{CASE}/certificates"): Operation(P.cases_read, "cremated"),
    ("POST", f"{CASE}/certificates"): Operation(P.cremations_write, "cremated"),
    ("POST", f"{CASE}/certificates/reissue"): Operation(P.cremations_write, "certified"),
    ("POST", f"{CASE}/certificates/cancel"): Operation(P.cremations_write, "certified"),
    ("POST", f"{CASE}/transports"): Operation(P.remains_write, "declared"),
    ("GET", f"{CASE}/transports"): Operation(P.cases_read, "declared"),
    ("POST", f"{CASE}/storages"): Operation(P.remains_write, "declared"),
    ("GET", f"{CASE}/storages"): Operation(P.cases_read, "declared"),
    ("POST", f"{CASE}/storages/{{storage_id}}/release"): Operation(P.remains_write, "stored"),
    ("POST", f"{CASE}/ashes-destination"): Operation(P.remains_write, "cremated"),
    ("GET", f"{CASE}/ashes-destination"): Operation(P.cases_read, "handed_over"),
    ("GET", f"{CASE}/handover"): Operation(P.cases_read, "handed_over"),
    ("POST", f"{CASE}/interments"): Operation(P.remains_write, "cremated"),
    ("GET", f"{CASE}/interments"): Operation(P.cases_read, "cremated"),
    ("GET", "/api/v1/audit"): Operation(P.audit_read, "none"),
    ("GET", "/api/v1/audit/verify"): Operation(P.audit_read, "none"),
    ("GET", "/api/v1/outbox"): Operation(P.outbox_read, "none"),
    # online approvals: the citizen's own (the matrix's citizen submitted the target), and the staff's queue
    ("POST", "/api/v1/approvals"): Operation(P.services_apply, "none"),
    ("GET", "/api/v1/my/approvals"): Operation(P.services_apply, "none"),
    ("GET", "/api/v1/my/approvals/{approval_id}"): Operation(P.services_apply, "approval_submitted"),
    ("GET", "/api/v1/approvals"): Operation(P.approvals_read, "none"),
    ("GET", APPROVAL): Operation(P.approvals_read, "approval_submitted"),
    ("POST", f"{APPROVAL}/accept"): Operation(P.approvals_review, "approval_submitted"),
    ("POST", f"{APPROVAL}/refuse"): Operation(P.approvals_review, "approval_submitted"),
    ("POST", f"{APPROVAL}/review"): Operation(P.approvals_review, "approval_accepted"),
    ("POST", f"{APPROVAL}/approve"): Operation(P.approvals_decide, "approval_reviewed"),
    ("POST", f"{APPROVAL}/reject"): Operation(P.approvals_decide, "approval_reviewed"),
    ("POST", "/api/v1/permit-verifications"): Operation(None, "none"),
    ("POST", "/api/v1/my/approvals/{approval_id}/attachments"): Operation(P.services_apply, "approval_submitted"),
    ("GET", "/api/v1/my/approvals/{approval_id}/attachments/{attachment_id}"): Operation(
        P.services_apply, "approval_attached"),
    ("GET", f"{APPROVAL}/attachments/{{attachment_id}}"): Operation(P.approvals_read, "approval_attached"),
    # reservations and remote farewell
    ("GET", "/api/v1/institutions/{institution_id}/resources"): Operation(None, "institution"),
    ("GET", "/api/v1/institutions/{institution_id}/resources/all"): Operation(P.bookings_manage, "institution"),
    ("POST", "/api/v1/institutions/{institution_id}/resources"): Operation(P.bookings_manage, "institution"),
    ("PATCH", "/api/v1/resources/{resource_id}"): Operation(P.bookings_manage, "resource"),
    ("GET", "/api/v1/resources/{resource_id}"): Operation(None, "resource"),
    ("GET", "/api/v1/resources/{resource_id}/slots"): Operation(None, "resource"),
    ("POST", "/api/v1/my/bookings"): Operation(P.services_apply, "resource"),
    ("GET", "/api/v1/my/bookings"): Operation(P.services_apply, "none"),
    ("GET", MINE): Operation(P.services_apply, "booking"),
    ("POST", f"{MINE}/change"): Operation(P.services_apply, "booking"),
    ("POST", f"{MINE}/cancel"): Operation(P.services_apply, "booking"),
    ("PUT", f"{MINE}/remote-farewell"): Operation(P.services_apply, "booking"),
    ("GET", f"{MINE}/remote-farewell"): Operation(P.services_apply, "remote_booking"),
    ("GET", "/api/v1/institutions/{institution_id}/bookings"): Operation(P.bookings_manage, "institution"),
    ("POST", "/api/v1/bookings/{booking_id}/confirm"): Operation(P.bookings_manage, "booking"),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): Operation(P.bookings_manage, "booking"),
    ("POST", "/api/v1/bookings/expiry-sweeps"): Operation(P.bookings_manage, "none"),
    ("POST", "/api/v1/remote-farewell-joins"): Operation(None, "invitation"),
    # complaints: citizens' own under /my, staff's under /complaints
    ("POST", "/api/v1/my/complaints"): Operation(P.services_apply, "institution"),
    ("GET", "/api/v1/my/complaints"): Operation(P.services_apply, "none"),
    ("GET", "/api/v1/my/complaints/{complaint_id}"): Operation(P.services_apply, "complaint_received"),
    ("POST", "/api/v1/my/complaints/{complaint_id}/feedback"): Operation(P.services_apply, "complaint_answered"),
    ("GET", "/api/v1/complaints"): Operation(P.complaints_read, "complaint_received"),
    ("GET", "/api/v1/complaints/counts"): Operation(P.complaints_counts, "none"),
    ("POST", "/api/v1/complaints/escalations"): Operation(P.complaints_handle, "none"),
    ("GET", "/api/v1/complaints/{complaint_id}"): Operation(P.complaints_read, "complaint_received"),
    ("POST", "/api/v1/complaints/{complaint_id}/assign"): Operation(P.complaints_handle, "complaint_received"),
    ("POST", "/api/v1/complaints/{complaint_id}/answer"): Operation(P.complaints_answer, "complaint_assigned"),
    ("POST", "/api/v1/complaints/{complaint_id}/close"): Operation(P.complaints_handle, "complaint_answered"),
    # memorials: the family's under /my, the public's under /memorials, the review of held messages
    ("POST", "/api/v1/my/memorials"): Operation(P.services_apply, "none"),
    ("GET", "/api/v1/my/memorials"): Operation(P.services_apply, "none"),
    ("POST", "/api/v1/my/memorials/{memorial_id}/remove"): Operation(P.services_apply, "memorial"),
    ("POST", "/api/v1/my/memorials/{memorial_id}/messages/{message_id}/remove"): Operation(
        P.services_apply, "memorial_message"),
    ("GET", "/api/v1/memorials"): Operation(None, "none"),
    ("GET", "/api/v1/memorials/{memorial_id}"): Operation(None, "memorial"),
    ("POST", "/api/v1/memorials/{memorial_id}/messages"): Operation(None, "memorial"),
    ("GET", "/api/v1/memorial-messages/review"): Operation(P.memorials_moderate, "none"),
    ("POST", "/api/v1/memorial-messages/{message_id}/review"): Operation(P.memorials_moderate, "memorial_message_held"),
    # equipment: the institution's devices, the readings they push, a cremation's cremator cycle
    ("POST", "/api/v1/institutions/{institution_id}/devices"): Operation(P.equipment_manage, "institution"),
    ("GET", "/api/v1/institutions/{institution_id}/devices"): Operation(P.equipment_manage, "institution"),
    ("GET", "/api/v1/devices/{device_id}"): Operation(P.equipment_manage, "device"),
    ("POST", "/api/v1/devices/{device_id}/credential"): Operation(P.equipment_manage, "device"),
    ("POST", "/api/v1/devices/{device_id}/revoke"): Operation(P.equipment_manage, "device"),
    ("POST", "/api/v1/devices/{device_id}/readings"): Operation(None, "device"),
    ("POST", f"{CASE}/cremation/cycle"): Operation(P.cremations_write, "cremated"),
    # payments: the citizen's own booking's, the provider's notice (signed, no token), the province's admins
    ("GET", f"{MINE}/payment"): Operation(P.services_apply, "priced_booking"),
    ("POST", f"{MINE}/payment"): Operation(P.services_apply, "priced_booking"),
    ("POST", "/api/v1/payments/notifications"): Operation(None, "payment_order"),
    ("GET", "/api/v1/payments/orders"): Operation(P.payments_manage, "none"),
    ("GET", "/api/v1/payments/reconciliations"): Operation(P.payments_manage, "none"),
    ("POST", "/api/v1/payments/reconciliations"): Operation(P.payments_manage, "none"),
    ("GET", "/api/v1/my/memorials/{memorial_id}"): Operation(P.services_apply, "memorial"),
    # satisfaction ratings: the citizen's of a completed booking; staff read them; moderators review held comments
    ("POST", f"{MINE}/rating"): Operation(P.services_apply, "completed_booking"),
    ("GET", "/api/v1/my/ratings"): Operation(P.services_apply, "none"),
    ("GET", "/api/v1/ratings"): Operation(P.ratings_read, "none"),
    ("GET", "/api/v1/ratings/summary"): Operation(P.ratings_read, "none"),
    ("POST", "/api/v1/ratings/{rating_id}/review"): Operation(P.memorials_moderate, "rating_held"),
    # the pairs the ministry found of one person here and in another province: the province's reviewers settle them
    ("GET", "/api/v1/cross-province-matches"): Operation(P.cases_review, "none"),
    ("POST", "/api/v1/cross-province-matches/{match_id}/finding"): Operation(P.cases_review, "cross_province_match"),
    # credit evaluation: the province records, evaluates and lists; a registrar reads its own score; lists are public
    ("POST", "/api/v1/credit/inspections"): Operation(P.credit_manage, "institution"),
    ("GET", "/api/v1/credit/inspections"): Operation(P.credit_manage, "none"),
    ("POST", "/api/v1/credit/penalties"): Operation(P.credit_manage, "institution"),
    ("GET", "/api/v1/credit/penalties"): Operation(P.credit_manage, "none"),
    ("POST", "/api/v1/credit/evaluations"): Operation(P.credit_manage, "none"),
    ("GET", "/api/v1/credit/scores"): Operation(P.credit_manage, "none"),
    ("GET", "/api/v1/credit/scores/mine"): Operation(P.credit_read_own, "none"),
    ("POST", CREDIT_LISTING): Operation(P.credit_manage, "evaluated"),
    ("GET", "/api/v1/credit/lists"): Operation(None, "none"),
}
# the credit reads are of one year
CREDIT_OF_A_YEAR = {("GET", "/api/v1/credit/scores"), ("GET", "/api/v1/credit/scores/mine"), ("GET", "/api/v1/credit/lists")}
# the national statistics, indicators and KPIs: in a province its own copy of them, for statistics:read (at the
# ministry every province's, for national:read: MINISTRY_OPERATIONS)
FIGURES_OF_A_YEAR = {("GET", f"/api/v1/national/{path}") for path in (
    "statistics/{metric}", "statistics/{metric}/export", "indicators", "completeness", "completeness/export", "kpis",
    "online-services", "online-services/export")}
OPERATIONS.update({key: Operation(P.statistics_read, "none") for key in FIGURES_OF_A_YEAR})
OPERATIONS[("GET", "/api/v1/national/own-figures")] = Operation(P.statistics_read, "none")
# authorised by the device's own credential (tests/registry/equipment): a person's token, whatever its roles, is 401
DEVICE_CREDENTIAL = {("POST", "/api/v1/devices/{device_id}/readings")}
# the ministry's registry has these routes besides the province's; the national database is empty here, so a read
# of one case finds nothing (404) where the role may read it
NATIONAL = "/api/v1/national"
MINISTRY_OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", f"{NATIONAL}/cases"): Operation(P.national_read, "none"),
    ("GET", f"{NATIONAL}/cases/{{province}}/{{case_id}}"): Operation(P.national_read, "unknown case"),
    ("GET", f"{NATIONAL}/matches"): Operation(P.national_read, "none"),
    ("GET", f"{NATIONAL}/institutions"): Operation(P.national_read, "none"),
    ("GET", f"{NATIONAL}/statistics/{{metric}}"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/statistics/{{metric}}/export"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/indicators"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/completeness"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/completeness/export"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/kpis"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/online-services"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/online-services/export"): Operation(P.national_read, "a year"),
    ("GET", f"{NATIONAL}/credit-lists"): Operation(P.national_read, "a year"),
    # signed by a province's exchange key, not a token: tests/exchange/test_receive.py
    ("POST", "/api/v1/exchange/batches"): Operation(None, "signed batch"),
    ("POST", "/api/v1/exchange/matches"): Operation(None, "signed batch"),  # tests/exchange/test_cross_province_matches.py
}
LISTED_NOTHING = "200, listing nothing"
# what an institution-bound role gets on another institution's target: a case is hidden like one that does not
# exist; declaring for another institution is refused; the listing of another institution's cases is empty
OTHER_INSTITUTION: dict[tuple[str, str], int | str] = {
    **{key: 404 for key in OPERATIONS if "{case_id}" in key[1] or "{certificate_id}" in key[1]},
    ("POST", "/api/v1/cases"): 403,
    ("GET", "/api/v1/cases"): LISTED_NOTHING,
    ("POST", "/api/v1/cases/search"): LISTED_NOTHING,
    # a registrar manages only its own institution's resources and bookings
    **{key: 403 for key, operation in OPERATIONS.items() if operation.permission == P.bookings_manage
       and key != ("POST", "/api/v1/bookings/expiry-sweeps")},
    # a registrar handles only the complaints against its own institution
    **{key: 404 for key in OPERATIONS if key[1].startswith("/api/v1/complaints/{complaint_id}")},
    ("GET", "/api/v1/complaints"): LISTED_NOTHING,
    # a registrar manages only its own institution's devices
    **{key: 403 for key, operation in OPERATIONS.items() if operation.permission == P.equipment_manage},
}


def expected(role: Role | None, key: tuple[str, str], scope: str, success: int) -> int | str:
    """The answer the permission table gives `role` for the operation in `scope`."""
    operation = OPERATIONS[key]
    if key in DEVICE_CREDENTIAL:
        return 401
    if operation.permission is None:
        return success
    if scope == "other_tenant":
        return 401
    if role is None or operation.permission not in ROLE_PERMISSIONS[role]:
        return 403
    if scope == "other_institution" and role in INSTITUTION_BOUND and key in OTHER_INSTITUTION:
        return OTHER_INSTITUTION[key]
    return success


def app_routes(app) -> Iterator[tuple[str, str, int]]:
    """(method, path template, success status) of every route, through included routers."""
    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):  # an included router (FastAPI ≥ 0.120)
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif isinstance(route, Mount):
                assert isinstance(route.app, StaticFiles), f"a mounted app the matrix does not know: {route.path}"
                continue  # the API docs' own static files: public, no token, nothing to authorise
            else:
                path = re.sub(r"\{(\w+):\w+\}", r"{\1}", prefix + route.path)  # {case_id:uuid} is {case_id}
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, path, getattr(route, "status_code", None) or 200

    return walk(app.routes)


class World:
    """Two funeral homes (`own` and `other`) with cases in every state, a columbarium, and who builds them."""

    def __init__(self, client: TestClient, app):
        self.client, self.issuer, self.ctx = client, app.state.ctx.issuer, app.state.ctx
        self._matches = itertools.count(1)
        self.admin = self.headers(Role.provincial_admin)
        self.reviewer = self.headers(Role.reviewer)
        self.institutions = {name: self._created("/api/v1/institutions", institution_payload(), self.admin)
                             for name in ("own", "other")}
        self.columbarium = self._created("/api/v1/institutions", institution_payload(type="columbarium"), self.admin)
        self.registrars = {name: self.headers(Role.registrar, institution["id"])
                           for name, institution in self.institutions.items()}
        self._prepared: dict[tuple, tuple[str, dict | None]] = {}
        self._certificate: dict | None = None
        self._permit: dict | None = None
        self._resources: dict[str, dict] = {}
        self.invitation_code: str | None = None
        self.order_no: str | None = None
        self.citizen = self.headers(Role.citizen)
        # every role in every scope leaves a memorial message from this one client: no limit for the matrix
        app.state.ctx.memorial_messages = AttemptLimiter(max_failures=10 ** 6)

    def resource(self, name: str) -> dict:
        """Institution `name`'s farewell hall, with room for every booking the matrix makes."""
        if name not in self._resources:
            self._resources[name] = create_resource(self.client, self.admin, self.institutions[name]["id"],
                                                    capacity=100)
        return self._resources[name]

    def booking(self, name: str, *, remote: bool = False) -> dict:
        """A held booking of the matrix's citizen at institution `name`, made remote if asked."""
        citizen = self.headers(Role.citizen)
        booking = self._created("/api/v1/my/bookings", booking_payload(self.resource(name)["id"]), citizen)
        if remote:
            answer = self._created(f"/api/v1/my/bookings/{booking['id']}/remote-farewell", remote_farewell_payload(),
                                   citizen, method="PUT")
            self.invitation_code = answer["invitees"][0]["invitation_code"]
        return booking

    def device(self, institution: dict) -> tuple[dict, dict]:
        """A new cremator of `institution` and the headers of its credential."""
        return register_device(self.client, self.admin, institution["id"])

    def cremator_cycle(self, institution: dict) -> dict:
        """A finished cycle of a new cremator of `institution`, as a cremation's link to it."""
        device, credential = self.device(institution)
        self._created(f"/api/v1/devices/{device['id']}/readings", {"readings": cremator_cycle(1, "C-1")}, credential)
        return {"device_id": device["id"], "cycle": "C-1"}

    def priced_booking(self, name: str) -> dict:
        """A held booking of a hall with a published fee: one the citizen can pay."""
        if ("priced", name) not in self._resources:
            item = self._created(f"/api/v1/institutions/{self.institutions[name]['id']}/service-items",
                                 BODIES[SERVICE_ITEMS](self, self.institutions[name]), self.admin)
            self._resources["priced", name] = create_resource(self.client, self.admin, self.institutions[name]["id"],
                                                              capacity=100, service_item_id=item["id"])
        return self._created("/api/v1/my/bookings", booking_payload(self._resources["priced", name]["id"]),
                             self.citizen)

    def certificate_check(self) -> dict:
        """A real certificate's number and check code: wrong guesses from one client would soon be limited."""
        if self._certificate is None:
            self._certificate = self.case("own", "certified")["certificate"]
        return {"number": self._certificate["number"], "check_code": self._certificate["check_code"]}

    def headers(self, role: Role | None, institution_id: str | None = None, issuer: DevelopmentIssuer | None = None,
                ) -> dict[str, str]:
        roles = [role.value] if role else ["offline_access"]
        token = (issuer or self.issuer).mint(f"matrix-{role}", roles,
                                             institution_id=uuid.UUID(institution_id) if institution_id else None)
        return {"Authorization": f"Bearer {token}"}

    def _created(self, path: str, body: dict | None, headers: dict, method: str = "POST") -> dict:
        response = self.client.request(method, path, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.text)
        return response.json()

    def cross_province_match(self, name: str) -> int:
        """A pair the ministry returned for a new case of institution `name`, as the shipper keeps it."""
        match_id = next(self._matches)
        with Session(self.ctx.engine) as session:
            cross_province.store(session, self.ctx.journal, [ReturnedMatch(
                id=match_id, case_id=self.case(name, "declared")["id"], other_province="shandong", other_province_code="370000",
                other_case_id=uuid.uuid4(), found_at=datetime.now(UTC))])
        return match_id

    def case(self, name: str, state: str) -> dict:
        """A new case of institution `name` brought to `state`."""
        institution, registrar = self.institutions[name], self.registrars[name]
        if state == "imported":  # written by a bulk backfill, so its import can be proven
            record = archived(institution)
            self._created("/api/v1/cases/imports/bulk", {"records": [record]}, self.admin)
            return self._created(f"/api/v1/cases?archive_ref={record['archive_ref']}", None, self.admin,
                                 method="GET")["data"][0]
        case = self._created("/api/v1/cases", case_payload(institution["id"]), registrar)
        path = f"/api/v1/cases/{case['id']}"
        steps = {"declared": [], "stored": ["storage"], "registered": ["register"],
                 "cremated": ["register", "cremate"], "certified": ["register", "cremate", "certify"],
                 "closed": ["register", "cremate", "close"], "handed_over": ["register", "cremate", "hand_over"]}
        for step in steps[state]:
            if step == "register":
                self._created(f"{path}/register", None, self.reviewer)
            elif step == "cremate":
                self._created(f"{path}/cremation", cremation(institution), registrar)
            elif step == "certify":
                certificate = self._created(f"{path}/certificates", None, registrar)
                case.update(certificate_id=certificate["id"], certificate=certificate)
            elif step == "close":
                self._created(f"{path}/close", None, registrar)
            elif step == "hand_over":
                self._created(f"{path}/ashes-destination", {"destination": "columbarium", "plot_or_niche": niche(),
                                                             "institution_id": self.columbarium["id"]}, registrar)
            elif step == "storage":
                case["storage_id"] = self._created(f"{path}/storages", storage(institution), registrar)["id"]
        return case

    def approval(self, state: str) -> dict:
        """A new facility application of the matrix's citizen, brought to `state` by the roles allowed."""
        approval = self._created("/api/v1/approvals", facility_approval_payload(), self.headers(Role.citizen))["approval"]
        steps = {"submitted": [], "attached": [], "accepted": ["accept"], "reviewed": ["accept", "review"]}[state]
        for step in steps:
            self._created(f"/api/v1/approvals/{approval['id']}/{step}", None, self.reviewer)
        if state == "attached":
            response = self.client.post(f"/api/v1/my/approvals/{approval['id']}/attachments", content=PDF,
                                        headers=self.headers(Role.citizen))
            assert response.status_code == 201, response.text
            approval["attachment_id"] = response.json()["id"]
        return approval

    def permit_check(self) -> dict:
        """A real permit's number and check code (an approved transport's)."""
        if self._permit is None:
            citizen = self.headers(Role.citizen)
            approval = self._created("/api/v1/approvals", transport_approval_payload(), citizen)["approval"]
            for step, headers in (("accept", self.reviewer), ("review", self.reviewer), ("approve", self.admin)):
                self._created(f"/api/v1/approvals/{approval['id']}/{step}", None, headers)
            self._permit = self.client.get(f"/api/v1/my/approvals/{approval['id']}", headers=citizen).json()["permit"]
        return {"number": self._permit["number"], "check_code": self._permit["check_code"]}
    def complaint(self, institution: dict, state: str) -> str:
        """A complaint by the matrix's citizen against `institution`, brought to `state`."""
        complaint = self._created("/api/v1/my/complaints", BODIES[("POST", "/api/v1/my/complaints")](self, institution),
                                  self.citizen)
        path = f"/api/v1/complaints/{complaint['id']}"
        if state in ("assigned", "answered"):
            self._created(f"{path}/assign", None, self.admin)
        if state == "answered":
            self._created(f"{path}/answer", {"answer": "已核实处理"}, self.admin)
        return complaint["id"]

    def request(self, key: tuple[str, str], name: str) -> tuple[str, dict | None]:
        """The path and body of the operation on institution `name`'s target, prepared until it is used up."""
        if (key, name) not in self._prepared:
            self._prepared[key, name] = self._prepare(key, name)
        return self._prepared[key, name]

    def used_up(self, key: tuple[str, str], name: str) -> None:
        if key[0] != "GET":
            self._prepared.pop((key, name), None)

    def _prepare(self, key: tuple[str, str], name: str) -> tuple[str, dict | None]:
        method, template = key
        institution = self.institutions[name]
        target = OPERATIONS[key].target
        params = {"institution_id": institution["id"]}
        if target == "priced":
            params["item_id"] = self._created(f"/api/v1/institutions/{institution['id']}/service-items",
                                              BODIES[SERVICE_ITEMS](self, institution), self.admin)["id"]
        elif target.startswith("complaint_"):
            params["complaint_id"] = self.complaint(institution, target.removeprefix("complaint_"))
        elif target.startswith("memorial"):
            memorial = self._created("/api/v1/my/memorials", memorial_payload(), self.citizen)
            params["memorial_id"] = memorial["id"]
            if target != "memorial":
                text = "赌博广告" if target == "memorial_message_held" else "永远怀念"
                params["message_id"] = self._created(f"/api/v1/memorials/{memorial['id']}/messages",
                                                     {"text": text}, self.citizen)["id"]
        elif target.startswith("publication_"):
            params["publication_id"] = create_publication(self.client, self.admin,
                                                          publish=target == "publication_published")["id"]
        elif target.startswith("approval_"):
            approval = self.approval(target.removeprefix("approval_"))
            params.update(approval_id=approval["id"], attachment_id=approval.get("attachment_id"))
        elif target == "resource":
            params["resource_id"] = self.resource(name)["id"]
        elif target == "device":
            params["device_id"] = self.device(institution)[0]["id"]
        elif target in ("completed_booking", "rating_held"):
            params["booking_id"], params["rating_id"] = rated_service(self, name, rate=target == "rating_held")
        elif target in ("booking", "remote_booking", "invitation"):
            params["booking_id"] = self.booking(name, remote=target != "booking")["id"]
        elif target in ("priced_booking", "payment_order"):
            params["booking_id"] = self.priced_booking(name)["id"]
            if target == "payment_order":
                self.order_no = self._created(f"{MINE.format(**params)}/payment", {"return_path": "/my"},
                                              self.citizen)["order_no"]
        elif target == "evaluated":
            self._created("/api/v1/credit/evaluations", {"year": YEAR}, self.admin)
            params["year"] = YEAR
        elif target == "cross_province_match":
            params["match_id"] = self.cross_province_match(name)
        elif target not in ("none", "institution"):
            case = self.case(name, target)
            params.update(case_id=case["id"], storage_id=case.get("storage_id"), certificate_id=case.get("certificate_id"))
        path = template.format(**params, metric="deaths")
        if key in (("GET", "/api/v1/cases"), ("GET", "/api/v1/complaints")):
            path += f"?institution_id={institution['id']}"
        if key in (("GET", "/api/v1/resources/{resource_id}/slots"), ("GET", "/api/v1/institutions/{institution_id}/bookings")):
            path += f"?on={slot_start()[:10]}"
        if key == ("GET", "/api/v1/complaints/counts"):
            path += "?year=2026"
        if key in CREDIT_OF_A_YEAR or key in FIGURES_OF_A_YEAR:
            path += f"?year={YEAR}"
        return path, BODIES.get(key, lambda world, institution: None)(self, institution)


def archived(institution: dict) -> dict:
    return case_payload(institution["id"], death_at="2012-05-06T10:00:00+08:00",
                        archive_ref=f"BJ-2012/{next(_serial):06d}")


def cremation(institution: dict) -> dict:
    started = datetime.now(UTC) - timedelta(hours=3)
    return {"institution_id": institution["id"], "started_at": started.isoformat(),
            "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01", "operator_name": "李师傅"}


def storage(institution: dict) -> dict:
    return {"institution_id": institution["id"], "cabinet_no": f"C-{next(_serial)}",
            "stored_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}


def niche() -> str:
    return f"思园{next(_serial)}号"


def memorial_payload() -> dict:
    return {"deceased_name": "张桂兰", "birth_date": "1938-02-01", "death_date": "2025-04-01", "biography": "一生勤劳。",
            "visibility": "public", "consented_by": "张明", "relation": "child", "consent": True}


def rated_service(world: World, name: str, *, rate: bool) -> tuple[str, str | None]:
    """A booking of the matrix's citizen, confirmed and ended (a completed service); rated with a held comment if asked."""
    booking = world.booking(name)
    world._created(f"/api/v1/bookings/{booking['id']}/confirm", None, world.admin)
    end_booking(world.client.app.state.ctx.engine, booking["id"])
    if not rate:
        return booking["id"], None
    return booking["id"], world._created(f"/api/v1/my/bookings/{booking['id']}/rating",
                                         {"score": 2, "comment": "加微信详谈"}, world.citizen)["id"]


def _hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat()


SERVICE_ITEMS = ("POST", "/api/v1/institutions/{institution_id}/service-items")
BODIES: dict[tuple[str, str], Callable[[World, dict], dict]] = {
    ("POST", "/api/v1/institutions"): lambda world, institution: institution_payload(),
    ("PATCH", "/api/v1/institutions/{institution_id}"): lambda world, institution: {"contact_name": "李主任"},
    ("POST", "/api/v1/institutions/{institution_id}/service-items"): lambda world, institution: {
        "name": f"遗体火化{next(_serial)}", "category": "basic", "unit": "具", "price_fen": 40000,
        "pricing_basis": "government_set", "effective_from": "2025-01-01"},
    ("POST", "/api/v1/institutions/{institution_id}/service-items/{item_id}/end"): lambda world, institution: {
        "effective_to": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()},
    ("PUT", "/api/v1/institutions/{institution_id}/disclosure"): lambda world, institution: {
        "opening_hours": "每日 8:00-17:00", "commitments": ["24小时接运遗体"], "complaint_phone": "010-12345678"},
    ("POST", "/api/v1/publications"): lambda world, institution: publication_payload(),
    ("PATCH", "/api/v1/publications/{publication_id}"): lambda world, institution: {"summary": "修订后的摘要"},
    ("POST", "/api/v1/publications/{publication_id}/withdraw"): lambda world, institution: {"reason": "政策已废止"},
    ("POST", "/api/v1/cases"): lambda world, institution: case_payload(institution["id"]),
    ("POST", "/api/v1/my/complaints"): lambda world, institution: {
        "institution_id": institution["id"], "category": "pricing", "text": "收费未公示", "contact": "13800001234"},
    ("POST", "/api/v1/my/complaints/{complaint_id}/feedback"): lambda world, institution: {"resolved": True},
    ("POST", "/api/v1/complaints/{complaint_id}/answer"): lambda world, institution: {"answer": "已核实处理"},
    ("POST", "/api/v1/complaints/{complaint_id}/close"): lambda world, institution: {"upheld": False},
    ("POST", "/api/v1/my/memorials"): lambda world, institution: memorial_payload(),
    ("POST", "/api/v1/memorials/{memorial_id}/messages"): lambda world, institution: {"text": "愿您安息", "offering": "flowers"},
    ("POST", "/api/v1/memorial-messages/{message_id}/review"): lambda world, institution: {"decision": "approve"},
    ("POST", f"{MINE}/rating"): lambda world, institution: {"score": 5, "comment": "服务周到"},
    ("POST", "/api/v1/ratings/{rating_id}/review"): lambda world, institution: {"decision": "approve"},
    ("POST", "/api/v1/cross-province-matches/{match_id}/finding"): lambda world, institution: {"finding": "same_person"},
    ("POST", "/api/v1/cases/search"): lambda world, institution: {"institution_id": institution["id"]},
    ("POST", "/api/v1/cases/imports"): lambda world, institution: {"records": [archived(institution)]},
    ("POST", "/api/v1/cases/imports/bulk"): lambda world, institution: {"records": [archived(institution)]},
    ("POST", f"{CASE}/corrections"): lambda world, institution: {"changes": {"cause_category": "accident"},
                                                                 "reason": "核对死亡医学证明"},
    ("POST", f"{CASE}/cremation"): lambda world, institution: cremation(institution),
    ("POST", f"{CASE}/certificates/reissue"): lambda world, institution: {"reason": "家属遗失原件"},
    ("POST", f"{CASE}/cremation/cycle"): lambda world, institution: world.cremator_cycle(institution),
    ("POST", "/api/v1/institutions/{institution_id}/devices"): lambda world, institution: device_payload(),
    ("POST", "/api/v1/devices/{device_id}/readings"): lambda world, institution: {"readings": [reading(1)]},
    ("POST", "/api/v1/certificate-verifications"): lambda world, institution: world.certificate_check(),
    # a code the fake service below knows: misses from one client would soon be limited
    ("POST", "/api/v1/status-lookups"): lambda world, institution: {"code": KNOWN_QUERY_CODE},
    ("POST", f"{CASE}/certificates/cancel"): lambda world, institution: {"reason": "登记错误"},
    ("POST", f"{CASE}/transports"): lambda world, institution: {
        "institution_id": institution["id"], "from_address": "北京协和医院", "to_address": "本馆",
        "vehicle_plate": "京A12345", "departed_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
        "arrived_at": _hour_ago()},
    ("POST", f"{CASE}/storages"): lambda world, institution: storage(institution),
    ("POST", f"{CASE}/storages/{{storage_id}}/release"): lambda world, institution: {"released_at": _hour_ago()},
    ("POST", f"{CASE}/ashes-destination"): lambda world, institution: {"destination": "sea_scattering"},
    ("POST", "/api/v1/institutions/{institution_id}/resources"): lambda world, institution: resource_payload(),
    ("PATCH", "/api/v1/resources/{resource_id}"): lambda world, institution: {"advance_days": 30},
    ("POST", "/api/v1/my/bookings"): lambda world, institution: booking_payload(
        world.resource("other" if institution is world.institutions["other"] else "own")["id"]),
    ("POST", f"{MINE}/change"): lambda world, institution: {"starts_at": slot_start(hour=10)},
    ("POST", f"{MINE}/cancel"): lambda world, institution: {},
    ("PUT", f"{MINE}/remote-farewell"): lambda world, institution: remote_farewell_payload(),
    ("POST", "/api/v1/bookings/{booking_id}/cancel"): lambda world, institution: {"reason": "告别厅检修"},
    ("POST", "/api/v1/remote-farewell-joins"): lambda world, institution: {"invitation_code": world.invitation_code},
    ("POST", f"{CASE}/interments"): lambda world, institution: {
        "kind": "placement", "remains_form": "ashes", "institution_id": world.columbarium["id"],
        "plot_or_niche": niche(), "interred_at": _hour_ago()},
    ("POST", "/api/v1/approvals"): lambda world, institution: facility_approval_payload(),
    ("POST", f"{APPROVAL}/refuse"): lambda world, institution: {"reasons": "申请材料不齐全"},
    ("POST", f"{APPROVAL}/reject"): lambda world, institution: {"reasons": "选址不符合规划"},
    ("POST", "/api/v1/my/approvals/{approval_id}/attachments"): lambda world, institution: PDF,
    ("POST", "/api/v1/permit-verifications"): lambda world, institution: world.permit_check(),
    ("POST", f"{MINE}/payment"): lambda world, institution: {"return_path": "/beijing/my/bookings"},
    # what the fake provider below takes for a notice it signed
    ("POST", "/api/v1/payments/notifications"): lambda world, institution: {"order_no": world.order_no},
    ("POST", "/api/v1/payments/reconciliations"): lambda world, institution: {
        "day": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()},
    # one inspection a year: each success inspects another past year
    ("POST", "/api/v1/credit/inspections"): lambda world, institution: inspection_payload(
        institution["id"], year=(year := next(_inspected_years)), inspected_on=f"{year}-06-01"),
    ("POST", "/api/v1/credit/penalties"): lambda world, institution: penalty_payload(institution["id"]),
    ("POST", "/api/v1/credit/evaluations"): lambda world, institution: {"year": YEAR},
    ("POST", CREDIT_LISTING): lambda world, institution: {"listing": other_listing(world, institution),
                                                          "reason": "复核后调整"},
}
_inspected_years = itertools.count(2001)


def other_listing(world: World, institution: dict) -> str:
    """A list the evaluated institution is not on, so the change is one."""
    scores = world._created(f"/api/v1/credit/scores?year={YEAR}", None, world.admin, method="GET")["data"]
    current = next(score["listing"] for score in scores if score["institution_id"] == institution["id"])
    return "red" if current == "black" else "black"
PDF = b"%PDF-1.7\n%%EOF\n"  # the smallest file an approval's attachment upload takes


@pytest.fixture(scope="module")
def db_backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def matrix_app(module_database_url, tmp_path_factory):
    from registry.app import create_app
    from registry.config import Settings

    app = create_app(Settings(tenant_code="110000", tenant_slug="beijing", database_url=module_database_url,
                              keys_dir=tmp_path_factory.mktemp("keys"), environment="development"))
    yield app
    app.state.ctx.engine.dispose()


KNOWN_QUERY_CODE = query_codes.new_code()


@pytest.fixture(scope="module", autouse=True)
def _a_service_with_a_query_code() -> Iterator[None]:
    """办件查询 answers a code one (fake) online service knows."""
    known = PublicStatus("approval", "110000-SP-2026-000001", "submitted", datetime.now(UTC))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(online_status, "RESOLVERS", (
            lambda session, digest: known if digest == query_codes.digest(KNOWN_QUERY_CODE) else None,))
        yield


class FakeProvider:
    """A payment provider that takes every notice as signed (signatures: tests/registry/payments)."""

    def create_payment(self, charge) -> str:
        return f"https://pay.example.cn/{charge.order_no}"

    def verify_notification(self, headers, body: bytes) -> Notice:
        order_no = json.loads(body)["order_no"]
        return Notice(notice_id=uuid.uuid4().hex, nonce=uuid.uuid4().hex, kind="paid", order_no=order_no,
                      amount_fen=40000, transaction_id=order_no, at=datetime.now(UTC))

    def query(self, order_no: str):
        return None

    def refund(self, *args) -> None:
        pass

    def statement(self, day) -> list:
        return []


@pytest.fixture(scope="module")
def world(matrix_app) -> Iterator[World]:
    matrix_app.state.ctx.payments = Payments(provider=FakeProvider())
    with TestClient(matrix_app) as client:
        yield World(client, matrix_app)


def test_every_route_of_the_app_is_in_the_matrix(matrix_app):
    routes = {(method, path) for method, path, _ in app_routes(matrix_app)}
    assert routes - OPERATIONS.keys() == set(), "routes the matrix does not cover: add them to OPERATIONS"
    assert OPERATIONS.keys() - routes == set(), "operations of the matrix the app no longer has"


@pytest.mark.parametrize("scope", SCOPES)
def test_every_role_on_every_operation(world, matrix_app, scope):
    settings = matrix_app.state.ctx.settings
    stranger = DevelopmentIssuer(crypto.new_rsa_private_pem(), issuer="fsp-dev:tianjin",
                                 audience=settings.token_audience)  # another tenant's issuer and key
    own = world.institutions["own"]["id"]
    session = Session(matrix_app.state.ctx.engine)
    wrong = []
    for role in ROLES:
        bound_to = own if role in INSTITUTION_BOUND else None
        headers = world.headers(role, bound_to, issuer=stranger if scope == "other_tenant" else None)
        for method, template, success in app_routes(matrix_app):
            key = (method, template)
            name = "other" if scope == "other_institution" else "own"
            path, body = world.request(key, name)
            sent = {"content": body} if isinstance(body, bytes) else {"json": body}  # a file upload's body is the file
            response = world.client.request(method, path, headers=headers, **sent)
            want = expected(role, key, scope, success)
            got: int | str = response.status_code
            if want == LISTED_NOTHING and got == 200:
                got = LISTED_NOTHING if response.json()["data"] == [] else "200, listing another's cases"
            if got != want:
                wrong.append(f"{role} {method} {template} [{scope}]: expected {want}, got {got} {response.text[:160]}")
            elif got == 403:
                entry = last_audit(session)
                if (entry.actor, entry.result) != (f"matrix-{role}", "refused"):
                    wrong.append(f"{role} {method} {template} [{scope}]: the 403 is not audited with the subject")
            if response.status_code < 300:
                world.used_up(key, name)
    session.close()
    assert not wrong, "\n".join(wrong)


@pytest.fixture
def ministry_app(database_url, tmp_path):
    from registry.app import create_app
    from registry.config import Role as TenantRole
    from registry.config import Settings

    app = create_app(Settings(tenant_code="100000", tenant_slug="ministry", role=TenantRole.ministry,
                              database_url=database_url, keys_dir=tmp_path / "keys", environment="development"))
    yield app
    app.state.ctx.engine.dispose()


def test_every_role_on_the_ministrys_own_operations(ministry_app):
    routes = {(method, path) for method, path, _ in app_routes(ministry_app)}
    shared = MINISTRY_OPERATIONS.keys() & OPERATIONS.keys()  # a province answers them too, with its own permission
    assert routes - OPERATIONS.keys() | shared == MINISTRY_OPERATIONS.keys(), "the ministry's routes: add them to MINISTRY_OPERATIONS"
    settings = ministry_app.state.ctx.settings
    stranger = DevelopmentIssuer(crypto.new_rsa_private_pem(), issuer="fsp-dev:beijing", audience=settings.token_audience)
    wrong = []
    with TestClient(ministry_app) as client, Session(ministry_app.state.ctx.engine) as session:
        for (method, template), operation in MINISTRY_OPERATIONS.items():
            if operation.target == "signed batch":
                continue
            path = template.format(province="beijing", case_id=uuid.uuid4(), metric="deaths")
            if operation.target == "a year":  # statistics are asked for a year
                path += "?year=2026"
            for role, issuer in [*((role, ministry_app.state.ctx.issuer) for role in ROLES), (Role.ministry_operator, stranger)]:
                token = issuer.mint(f"matrix-{role}", [role.value] if role else ["offline_access"])
                response = client.request(method, path, headers={"Authorization": f"Bearer {token}"})
                if issuer is stranger:
                    want = 401
                elif role is None or operation.permission not in ROLE_PERMISSIONS[role]:
                    want = 403
                else:
                    want = 404 if operation.target == "unknown case" else 200
                if response.status_code != want:
                    wrong.append(f"{role} {method} {template}: expected {want}, got {response.status_code}")
                elif want in (200, 403, 404):  # reads are audited like refusals, with the subject
                    session.rollback()
                    if last_audit(session).actor != f"matrix-{role}":
                        wrong.append(f"{role} {method} {template}: not audited with the subject")
    assert not wrong, "\n".join(wrong)
