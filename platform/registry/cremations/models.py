"""PLACEHOLDER: being written."""
import uuid

from sqlmodel import Field, SQLModel

from registry.db_types import new_id


class Cremation(SQLModel, table=True):
    __tablename__ = "cremations"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)


class Certificate(SQLModel, table=True):
    __tablename__ = "cremation_certificates"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
