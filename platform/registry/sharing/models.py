"""How far each department has received this tenant's outbox."""

from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, utcnow


class SharingCursor(SQLModel, table=True):
    """The last outbox seq a department acknowledged; its notices before that are delivered."""

    __tablename__ = "sharing_cursors"

    department: str = Field(primary_key=True, max_length=32)
    delivered_seq: int = 0
    updated_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
