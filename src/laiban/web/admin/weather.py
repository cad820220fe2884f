"""The weather page of a preschool's admin: the forecast's state, today's clothes suggestion, staff's
corrections per weather condition (they expire) and the children's ratings."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from laiban.model.garments import CONDITION_LABELS, GARMENTS
from laiban.model.weather import location_key
from laiban.skills.clothes import NAMES, suggestion
from laiban.skills.outdoors import next_outing, usable_forecast
from laiban.store.tables import GarmentCorrection, Preschool, StoredForecast
from laiban.store.today import local_now, today_for
from laiban.store.weather import CORRECTION_DAYS, correct, rating_summary
from laiban.web.admin.render import Form, render
from laiban.web.errors import ApiError
from laiban.web.params import RowId
from laiban.web.security import CsrfChecked, CurrentStaff, Db, preschool_for_staff

router = APIRouter(prefix="/admin/p/{slug}/weather", include_in_schema=False)


@router.get("", response_class=HTMLResponse)
def weather_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    return _page(request, db, preschool_for_staff(db, staff, slug))


def _page(request: Request, db: Db, preschool: Preschool, error: str | None = None) -> Response:
    today = today_for(db, preschool, local_now(preschool))
    stored = (
        db.get(StoredForecast, location_key(preschool.latitude, preschool.longitude))
        if preschool.latitude is not None and preschool.longitude is not None
        else None
    )
    corrections = db.scalars(
        select(GarmentCorrection)
        .where(GarmentCorrection.preschool_id == preschool.id, GarmentCorrection.expires_at > today.now)
        .order_by(GarmentCorrection.condition)
    ).all()
    return render(
        request,
        "weather.html",
        {
            "preschool": preschool,
            "stored": stored,
            "fresh": usable_forecast(today) is not None,
            "suggestion": suggestion(today),
            "outing": next_outing(today),
            "corrections": corrections,
            "ratings": rating_summary(db, preschool.id, today.now - dt.timedelta(days=30)),
            "garments": GARMENTS,
            "names": NAMES,
            "conditions": CONDITION_LABELS,
            "correction_days": CORRECTION_DAYS,
            "error": error,
        },
        status=400 if error else 200,
    )


@router.post("/corrections", dependencies=[CsrfChecked])
def save_correction(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    condition = str(form.get("condition", ""))
    garments = [str(g) for g in form.getlist("garments")]
    if condition not in CONDITION_LABELS:
        raise ApiError(400, "Okänt väderläge.")
    if not garments or any(g not in GARMENTS for g in garments):
        return _page(request, db, preschool, error="Välj minst ett plagg.")
    correct(db, preschool.id, condition, garments, staff.user_id)
    return RedirectResponse(f"/admin/p/{preschool.slug}/weather?saved=1", status_code=303)


@router.post("/corrections/{correction_id}/delete", dependencies=[CsrfChecked])
def delete_correction(slug: str, correction_id: RowId, db: Db, staff: CurrentStaff) -> Response:
    preschool = preschool_for_staff(db, staff, slug)
    row = db.get(GarmentCorrection, correction_id)
    if row is None or row.preschool_id != preschool.id:
        raise ApiError(404, "There is no such correction.")
    db.delete(row)
    return RedirectResponse(f"/admin/p/{preschool.slug}/weather", status_code=303)
