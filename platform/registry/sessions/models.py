"""A staff session as stored: the cookie's secret never is (only its SHA-256), the tokens only encrypted (SM4)."""
import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from registry.db_types import UTCDateTime, utcnow


class SessionState(StrEnum):
    pending = "pending"  # a sign-in started (its PKCE verifier and state kept), nobody signed in yet
    active = "active"
    ended = "ended"


class SessionKind(StrEnum):
    """Whose session: staff of the workbench, or a citizen in the portal's 我的办事; never usable as the other."""
    staff = "staff"
    citizen = "citizen"


class StaffSession(SQLModel, table=True):
    __tablename__ = "staff_sessions"

    # SHA-256 of the cookie's secret: whoever reads the table cannot take over a session
    id: str = Field(primary_key=True, max_length=64)
    state: SessionState = Field(default=SessionState.pending)
    kind: str = Field(default=SessionKind.staff.value, max_length=16)
    subject: str | None = Field(default=None, max_length=255)
    username: str | None = Field(default=None, max_length=255)
    roles: str | None = Field(default=None, max_length=1000)  # space-separated realm roles
    institution_id: uuid.UUID | None = None
    # how the person signed in: "development" or "oidc"
    method: str | None = Field(default=None, max_length=16)
    # SM4-GCM ciphertexts: bearer credentials are secrets at rest
    access_token: str | None = Field(default=None, max_length=20000)
    refresh_token: str | None = Field(default=None, max_length=20000)
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # a pending sign-in's PKCE verifier, state, nonce and where to go afterwards (SM4-GCM ciphertext of JSON)
    pending: str | None = Field(default=None, max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)  # absolute end, whatever the activity
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=32)
