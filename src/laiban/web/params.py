"""Parameter types shared by the API and the admin."""

from typing import Annotated

from fastapi import Path

# Row ids are 32-bit on PostgreSQL; anything outside is a 422, not a database error.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A row id")]
