"""Schema creation on first start."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)


def init_schema(engine: Engine) -> None:
    SQLModel.metadata.create_all(engine)
