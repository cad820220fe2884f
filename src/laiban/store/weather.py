"""Stored forecasts (one per ~1 km location), staff's garment corrections and children's ratings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from laiban.model.garments import GARMENTS, Condition
from laiban.model.weather import Forecast, ForecastStep, Precipitation, Symbol, location_key
from laiban.store.tables import GarmentCorrection, GarmentRating, StoredForecast, utcnow

CORRECTION_DAYS = 14  # a correction is for the current season, not forever


def steps_to_json(steps: tuple[ForecastStep, ...]) -> list[dict[str, Any]]:
    return [
        {
            "time": s.time.isoformat(),
            "temperature": s.temperature,
            "feels_like": s.feels_like,
            "wind_speed": s.wind_speed,
            "wind_gust": s.wind_gust,
            "humidity": s.humidity,
            "precipitation_mm": s.precipitation_mm,
            "precipitation": s.precipitation.value,
            "thunder": s.thunder,
            "cloud_cover": s.cloud_cover,
            "symbol": s.symbol.value if s.symbol else None,
        }
        for s in steps
    ]


def steps_from_json(rows: list[dict[str, Any]]) -> tuple[ForecastStep, ...]:
    return tuple(
        ForecastStep(
            time=dt.datetime.fromisoformat(row["time"]),
            temperature=row.get("temperature"),
            feels_like=row.get("feels_like"),
            wind_speed=row.get("wind_speed"),
            wind_gust=row.get("wind_gust"),
            humidity=row.get("humidity"),
            precipitation_mm=row.get("precipitation_mm"),
            precipitation=Precipitation(row.get("precipitation") or "none"),
            thunder=bool(row.get("thunder")),
            cloud_cover=row.get("cloud_cover"),
            symbol=Symbol(row["symbol"]) if row.get("symbol") else None,
        )
        for row in rows
    )


def forecast_row(session: Session, latitude: float, longitude: float) -> StoredForecast:
    """The location's row, created empty on first use."""
    key = location_key(latitude, longitude)
    row = session.get(StoredForecast, key)
    if row is None:
        row = StoredForecast(location_key=key, latitude=latitude, longitude=longitude, steps=[], failures=0)
        session.add(row)
        session.flush()
    return row


def load_forecast(session: Session, latitude: float | None, longitude: float | None) -> Forecast | None:
    if latitude is None or longitude is None:
        return None
    row = session.get(StoredForecast, location_key(latitude, longitude))
    if row is None or row.fetched_at is None or not row.source:
        return None
    return Forecast(row.source, row.fetched_at, row.latitude, row.longitude, steps_from_json(row.steps))


def save_forecast(row: StoredForecast, forecast: Forecast) -> None:
    row.source = forecast.source
    row.fetched_at = forecast.fetched_at
    row.steps = steps_to_json(forecast.steps)
    row.failures = 0
    row.last_error = None


# --- corrections and ratings ---------------------------------------------------------------------


def active_corrections(session: Session, preschool_id: int, now: dt.datetime) -> dict[str, tuple[str, ...]]:
    """condition → garments; the newest unexpired correction of each condition."""
    rows = session.scalars(
        select(GarmentCorrection)
        .where(GarmentCorrection.preschool_id == preschool_id, GarmentCorrection.expires_at > now)
        .order_by(GarmentCorrection.created_at)
    )
    return {row.condition: tuple(row.garments) for row in rows}


def correct(
    session: Session,
    preschool_id: int,
    condition: str,
    garments: list[str],
    user_id: int | None,
    now: dt.datetime | None = None,
    days: int = CORRECTION_DAYS,
) -> GarmentCorrection:
    """Staff's garments for a condition from now on (replacing an earlier correction of it)."""
    if condition not in {c.value for c in Condition}:
        raise ValueError(f"unknown condition {condition!r}")
    unknown = [g for g in garments if g not in GARMENTS]
    if unknown or not garments:
        raise ValueError("choose at least one garment from the catalogue")
    now = now or utcnow()
    session.execute(
        delete(GarmentCorrection).where(
            GarmentCorrection.preschool_id == preschool_id, GarmentCorrection.condition == condition
        )
    )
    row = GarmentCorrection(
        preschool_id=preschool_id,
        condition=condition,
        garments=[g for g in GARMENTS if g in garments],
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
        created_by=user_id,
    )
    session.add(row)
    session.flush()
    return row


def rate(session: Session, preschool_id: int, condition: str, garments: tuple[str, ...], up: bool) -> None:
    session.add(
        GarmentRating(
            preschool_id=preschool_id, condition=condition, garments=list(garments), rating=1 if up else -1
        )
    )


def rating_summary(session: Session, preschool_id: int, since: dt.datetime) -> dict[str, tuple[int, int]]:
    """condition → (thumbs up, thumbs down) since the given moment."""
    rows = session.execute(
        select(GarmentRating.condition, GarmentRating.rating, func.count())
        .where(GarmentRating.preschool_id == preschool_id, GarmentRating.at >= since)
        .group_by(GarmentRating.condition, GarmentRating.rating)
    ).all()
    summary: dict[str, list[int]] = {}
    for condition, rating, count in rows:
        summary.setdefault(condition, [0, 0])[0 if rating > 0 else 1] += count
    return {condition: (up, down) for condition, (up, down) in summary.items()}
