"""Every table of the registry, imported once so SQLModel.metadata is complete for Alembic."""
from registry.approvals.models import Approval, ApprovalAttachment, ApprovalStep, TransportPermit
from registry.audit.models import AuditEntry
from registry.cases.models import Case, CaseCorrection
from registry.complaints.models import Complaint
from registry.credit.models import CreditScore, Inspection, Penalty
from registry.cremations.models import Certificate, Cremation
from registry.cross_province.models import CrossProvinceMatch
from registry.disclosure.models import InstitutionDisclosure
from registry.equipment.models import Device, LatestReading, Reading
from registry.exchange.models import ExchangeCursor, NationalEvent
from registry.institutions.models import Institution, ServiceItem
from registry.memorials.models import Memorial, MemorialMessage
from registry.national.credit_lists import NationalCreditListing
from registry.national.models import (
    NationalAshesDestination,
    NationalCase,
    NationalCertificate,
    NationalCremation,
    NationalInterment,
    PersonMatch,
)
from registry.national.online_models import NationalOnlineCount, NationalOnlineItem
from registry.national.own_figures import OwnFiguresCursor
from registry.national.statistics import NationalCount
from registry.national.yearbook import ExpectedDeaths
from registry.outbox.models import OutboxEvent
from registry.payments.models import PaymentNotice, PaymentOrder, Reconciliation
from registry.publications.models import Publication
from registry.ratings.models import Rating
from registry.remains.models import AshesDestination, Handover, Interment, Storage, Transport
from registry.reservations.farewell import FarewellInvitation, RemoteFarewell
from registry.reservations.models import Booking, Resource, Slot
from registry.security.key_ledger import KeyFingerprint
from registry.sequences import TenantSequences
from registry.sessions.models import StaffSession
from registry.sharing.models import SharingCursor
from registry.tenant_status import TenantStatus

__all__ = ["Approval", "ApprovalAttachment", "ApprovalStep", "AshesDestination", "AuditEntry", "Booking", "Case",
           "CaseCorrection", "Certificate", "Complaint", "CreditScore", "Inspection", "Penalty",
           "Cremation", "CrossProvinceMatch", "Device", "ExchangeCursor", "ExpectedDeaths",
           "FarewellInvitation", "Handover", "Institution", "InstitutionDisclosure", "Interment", "KeyFingerprint", "LatestReading",
           "Memorial", "MemorialMessage", "NationalAshesDestination", "NationalCase", "NationalCertificate",
           "NationalCount", "NationalCreditListing", "NationalCremation", "NationalEvent", "NationalInterment", "NationalOnlineCount",
           "NationalOnlineItem", "OutboxEvent", "OwnFiguresCursor", "PaymentNotice", "PaymentOrder", "PersonMatch", "Publication", "Rating",
           "Reading", "Reconciliation", "RemoteFarewell", "Resource", "ServiceItem", "SharingCursor", "Slot",
           "StaffSession",
           "Storage", "TenantSequences", "TenantStatus", "Transport", "TransportPermit"]
