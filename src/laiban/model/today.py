"""Today: everything a preschool knows about this moment, handed to the skills (which never read clocks,
databases or the network themselves). Topic issues add their data here: forecast, menu, schedule…"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Today:
    now: dt.datetime  # aware, in the preschool's timezone
    preschool_name: str
    modules: tuple[str, ...]
    languages: tuple[str, ...]
