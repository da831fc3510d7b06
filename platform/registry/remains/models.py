"""PLACEHOLDER: being written."""
import uuid

from sqlmodel import Field, SQLModel

from registry.db_types import new_id


class Transport(SQLModel, table=True):
    __tablename__ = "transports"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)


class Storage(SQLModel, table=True):
    __tablename__ = "storages"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)


class AshesDestination(SQLModel, table=True):
    __tablename__ = "ashes_destinations"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)


class Interment(SQLModel, table=True):
    __tablename__ = "interments"
    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
