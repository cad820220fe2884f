"""Refreshing forecasts: every preschool location with the weather module, at most every 30 minutes,
SMHI first and MET Norway when SMHI fails (or the place is outside its area). Failures back off and the
last good forecast stays; an unexpected exception (a bug) counts as a failure of that location only, the
round goes on. Runs outside any question: network I/O never happens while a child waits."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.utils import format_datetime

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from laiban import __version__
from laiban.config import Settings
from laiban.model.weather import Forecast, location_key
from laiban.sources import DEADLINE, SourceError, metno, smhi
from laiban.store.db import session_factory, transaction
from laiban.store.tables import Preschool, utcnow
from laiban.store.weather import forecast_row, save_forecast

log = logging.getLogger("laiban.jobs.weather")

REFRESH_EVERY = dt.timedelta(minutes=30)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
MAX_BACK_OFF = dt.timedelta(minutes=30)
# What staff read on the weather page (in Swedish) when something other than the sources failed; the log
# has the traceback.
NO_FORECAST = "Varken SMHI eller MET Norway gav någon prognos. "
UNEXPECTED = (
    "Något oväntat gick fel när Laiban hämtade prognosen. Laiban försöker igen senare; den som sköter "
    "servern hittar detaljerna i loggen."
)


def user_agent(settings: Settings) -> str:
    return f"Laiban/{__version__} ({settings.contact or 'contact not configured'})"


def locations(engine: Engine) -> dict[str, tuple[float, float]]:
    """One (lat, lon) per location key among preschools that show the weather, in the preschools' order."""
    with transaction(session_factory(engine)) as session:
        rows = session.execute(
            select(Preschool.latitude, Preschool.longitude, Preschool.modules).order_by(Preschool.id)
        ).all()
    found: dict[str, tuple[float, float]] = {}
    for latitude, longitude, modules in rows:
        if latitude is not None and longitude is not None and "weather" in modules:
            found.setdefault(location_key(latitude, longitude), (latitude, longitude))
    return found


@dataclass(frozen=True)
class Fetched:
    forecast: Forecast | None  # None: MET Norway says our copy is still current (304)
    how: str  # for the log line
    metno_last_modified: str | None = None
    metno_expires_at: dt.datetime | None = None


def _has_temperatures(forecast: Forecast) -> bool:
    return any(step.temperature is not None for step in forecast.steps)


def fetch(
    settings: Settings,
    client: httpx.Client,
    latitude: float,
    longitude: float,
    now: dt.datetime,
    metno_last_modified: str | None,
    deadline: float = DEADLINE,
) -> Fetched:
    """SMHI, else MET Norway; raises SourceError when both fail. A forecast without a single temperature
    (say, the service renamed its parameters) counts as a failure: it must not replace the last good one."""
    try:
        forecast = smhi.fetch(client, settings.smhi_base_url, latitude, longitude, now, deadline=deadline)
        if _has_temperatures(forecast):
            return Fetched(forecast, "SMHI")
        smhi_problem = "SMHI sent no forecast steps with a temperature."
    except SourceError as exc:
        smhi_problem = str(exc)
    try:
        forecast, info = metno.fetch(
            client,
            settings.metno_base_url,
            latitude,
            longitude,
            now,
            user_agent=user_agent(settings),
            if_modified_since=metno_last_modified,
            deadline=deadline,
        )
    except SourceError as exc:
        raise SourceError(f"{smhi_problem} {exc}", status=exc.status, kind=exc.kind) from exc
    if forecast is not None and not _has_temperatures(forecast):
        raise SourceError(f"{smhi_problem} MET Norway sent no forecast steps with a temperature.")
    modified = info.get("last_modified")
    header = format_datetime(modified.astimezone(dt.UTC), usegmt=True) if modified else None
    return Fetched(forecast, f"MET Norway ({smhi_problem})", header, info.get("expires"))


def refresh_forecasts(
    engine: Engine,
    settings: Settings,
    now: dt.datetime | None = None,
    client: httpx.Client | None = None,
    *,
    deadline: float = DEADLINE,
) -> str:
    """One round over every location; `deadline` is each request's limit in seconds (see sources.get)."""
    now = now or utcnow()
    sessions = session_factory(engine)
    done: list[str] = []
    own_client = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        for key, (latitude, longitude) in locations(engine).items():
            try:
                done.append(_refresh(sessions, settings, client, key, latitude, longitude, now, deadline))
            except Exception as exc:  # a bug must not skip the back-off, nor the other locations
                log.exception("forecast for %s failed unexpectedly", key)
                _failed(sessions, latitude, longitude, now, UNEXPECTED)
                done.append(f"{key} failed: unexpected {type(exc).__name__} (see the log)")
    finally:
        if own_client:
            client.close()
    return "; ".join(done) if done else "no preschool with the weather module has coordinates"


def _refresh(
    sessions: sessionmaker[Session],
    settings: Settings,
    client: httpx.Client,
    key: str,
    latitude: float,
    longitude: float,
    now: dt.datetime,
    deadline: float,
) -> str:
    """One location: fetched and stored, a failure recorded, or skipped; what happened, for the log line."""
    with transaction(sessions) as session:
        row = forecast_row(session, latitude, longitude)
        if row.fetched_at and now - row.fetched_at < REFRESH_EVERY:
            return f"{key} fresh"
        if row.next_attempt_at and now < row.next_attempt_at:
            return f"{key} waiting after {row.failures} failure(s)"
        if row.source == "metno" and row.metno_expires_at and now < row.metno_expires_at:
            return f"{key} fresh until MET Norway's Expires"
        last_modified = row.metno_last_modified if row.source == "metno" else None
    try:  # no transaction is open while the network is asked
        fetched = fetch(settings, client, latitude, longitude, now, last_modified, deadline)
    except SourceError as exc:
        # Staff read this on the weather page: in Swedish; the log keeps the details.
        failures = _failed(sessions, latitude, longitude, now, NO_FORECAST + exc.in_swedish())
        log.warning("forecast for %s failed (%d in a row): %s", key, failures, exc)
        return f"{key} failed: {exc}"
    with transaction(sessions) as session:
        row = forecast_row(session, latitude, longitude)
        row.last_attempt_at = now
        row.next_attempt_at = None
        if fetched.forecast is None:  # MET Norway: not modified since our copy
            row.fetched_at = now
            row.failures = 0
            row.last_error = None
        else:
            save_forecast(row, fetched.forecast)
            row.metno_last_modified = fetched.metno_last_modified
        row.metno_expires_at = fetched.metno_expires_at
    return f"{key} from {fetched.how}"


def _failed(
    sessions: sessionmaker[Session], latitude: float, longitude: float, now: dt.datetime, error: str
) -> int:
    """Records a failed attempt and when to try again (backing off); the failures in a row."""
    with transaction(sessions) as session:
        row = forecast_row(session, latitude, longitude)
        row.failures += 1
        row.last_attempt_at = now
        row.last_error = error
        # The exponent is capped: 2**41 minutes would overflow timedelta after a day of failures.
        row.next_attempt_at = now + min(dt.timedelta(minutes=2 ** min(row.failures, 10)), MAX_BACK_OFF)
        return row.failures
