"""The translations page of a preschool's admin ("Översättningar", `/admin/p/{slug}/translations`): the
Swedish texts the preschool's answers use now — the coming two weeks' dishes (as children hear them),
upcoming calendar events and closed days, the coming two weeks' activities, the schedule's own titles —
each with a field per language of the preschool but Swedish, and the translations saved before.

Pedagogues and admins edit it (everyday content, like the pronunciation table). "Spara" saves one row
(htmx swaps the row; without JavaScript the form posts and the page comes back); an emptied field deletes
that language's translation. Answers use only confirmed translations (`laiban.store.translations`).

With `LAIBAN_TRANSLATE_URL` set, "Föreslå översättningar" asks that self-hosted service for the empty
fields of the texts in use (`laiban.sources.translate`). Never sent: a text holding the first name of one
of the preschool's children or a word of a guardian's link label or a pickup person (such a row says
"innehåller ett namn – översätt själv"). Suggestions are stored unconfirmed: a child hears one only when
staff approved it. Every change is in the audit log (subject "translation").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from laiban.model.intent import glossary_key
from laiban.model.preschool import LANGUAGES, RTL_LANGUAGES
from laiban.skills.clock import EVENT_NAMES
from laiban.skills.dishes import simplify
from laiban.skills.pickup import RELATIONS
from laiban.sources import SourceError
from laiban.sources.translate import TIMEOUT, in_swedish, mentions_a_name, name_pattern, translate
from laiban.store import audit
from laiban.store.calendar import activity_rows, calendar_events_between, closed_days_between
from laiban.store.menus import menu_between
from laiban.store.tables import (
    Child,
    ChildWeekday,
    GuardianLink,
    Preschool,
    Presence,
    ScheduleEvent,
    StaffTranslation,
)
from laiban.store.today import local_now
from laiban.store.translations import (
    MAX_TEXT_LENGTH,
    TranslationError,
    add_suggestion,
    entries_of,
    save_row,
    tidy,
)
from laiban.web.admin.render import Form, form_text, render
from laiban.web.security import CsrfChecked, CurrentStaff, Db, Staff, preschool_for_staff, settings_of

router = APIRouter(prefix="/admin/p/{slug}/translations", include_in_schema=False)

DAYS_AHEAD = 14  # dishes and activities of the coming two weeks
EVENTS_AHEAD = 60  # calendar events and closed days of the coming two months
# One press of "Föreslå översättningar" asks at most this many texts, for at most this long; the rest
# waits for the next press (what was suggested is kept).
MAX_SUGGESTIONS = 200
SUGGEST_SECONDS = 60.0
HAS_A_NAME = "innehåller ett namn – översätt själv"
# Words in guardians' link labels and "picked up by" that are not names (relations, small words).
NOT_NAMES = frozenset(RELATIONS) | {
    "och",
    "eller",
    "med",
    "samt",
    "av",
    "kl",
    "hämtar",
    "hämtas",
    "själv",
    "går",
    "hem",
    "mor",
    "far",
    "bror",
    "syster",
    "lillebror",
    "lillasyster",
    "kusin",
    "granne",
    "kompis",
    "barnvakt",
    "förälder",
    "föräldrar",
    "vårdnadshavare",
    "bonusmamma",
    "bonuspappa",
    "styvmamma",
    "styvpappa",
    "länk",
}
WORD = re.compile(r"[^\W\d_][\w'’-]*")

CONFIRMATIONS = {"saved": "Översättningarna är sparade."}


# --- the texts in use --------------------------------------------------------------------------------


@dataclass
class Term:
    """A Swedish text the preschool's answers use, and where it comes from ("Mat", "Händelse" …)."""

    source: str
    kinds: list[str] = field(default_factory=list)
    in_use: bool = True

    @property
    def key(self) -> str:
        return glossary_key(self.source)

    @property
    def row_id(self) -> str:
        return "t-" + hashlib.sha256(self.key.encode()).hexdigest()[:12]


def terms_in_use(session: Session, preschool: Preschool, today: dt.date) -> list[Term]:
    """The staff texts answers may say in the coming days, each once (case and spaces ignored), in the
    order of the page: dishes, events, closed days, activities, schedule titles."""
    found: dict[str, Term] = {}

    def add(text: str, kind: str) -> None:
        source = tidy(text)
        if not source:
            return
        term = found.setdefault(glossary_key(source), Term(source))
        if kind not in term.kinds:
            term.kinds.append(kind)

    modules = preschool.modules
    ahead = today + dt.timedelta(days=DAYS_AHEAD - 1)
    if "lunch" in modules:
        for _key, dishes in sorted(menu_between(session, preschool.id, today, ahead).items()):
            for stored in dishes:
                add(stored.simple_override or simplify(stored.text), "Mat")
    events_end = today + dt.timedelta(days=EVENTS_AHEAD)
    if "calendar" in modules:
        for _day, events in sorted(calendar_events_between(session, preschool.id, today, events_end).items()):
            for _at, title in events:
                add(title, "Händelse")
        for _day, reason in sorted(closed_days_between(session, preschool.id, today, events_end).items()):
            add(reason, "Stängt")
    if "activities" in modules:
        for row in activity_rows(session, preschool.id, today, ahead):
            add(row.title, "Aktivitet")
            add(row.future_text, "Aktivitet, före")
            add(row.past_text, "Aktivitet, efter")
    if "clock" in modules:
        titles = session.execute(
            select(ScheduleEvent.title, ScheduleEvent.kind).where(ScheduleEvent.preschool_id == preschool.id)
        ).all()
        for title, kind in sorted(titles):
            if kind not in EVENT_NAMES:
                add(title, "Schema")
    return list(found.values())


def _terms(
    session: Session, preschool: Preschool
) -> tuple[list[Term], dict[str, dict[str, StaffTranslation]]]:
    """The texts in use, then the texts with saved translations that are not in use now."""
    terms = terms_in_use(session, preschool, local_now(preschool).date())
    saved = entries_of(session, preschool.id)
    known = {term.key for term in terms}
    for key, by_lang in sorted(saved.items()):
        if key not in known:
            source = next(iter(by_lang.values())).source
            terms.append(Term(source, ["Används inte just nu"], in_use=False))
    return terms, saved


def names_at(session: Session, preschool_id: int) -> re.Pattern[str] | None:
    """The children's first names and the words of guardians' link labels and pickup persons at the
    preschool (relation words like "mamma" left out), as one whole-word pattern."""
    names: set[str] = set(
        session.scalars(select(Child.first_name).where(Child.preschool_id == preschool_id)).all()
    )
    people = [
        *session.scalars(select(GuardianLink.label).where(GuardianLink.preschool_id == preschool_id)),
        *session.scalars(select(ChildWeekday.pickup_by).where(ChildWeekday.preschool_id == preschool_id)),
        *session.scalars(select(Presence.pickup_by).where(Presence.preschool_id == preschool_id)),
    ]
    for text in people:
        names.update(word for word in WORD.findall(text or "") if word.casefold() not in NOT_NAMES)
    return name_pattern(names)


# --- the page ----------------------------------------------------------------------------------------


def _languages(preschool: Preschool) -> list[dict[str, str]]:
    return [
        {"code": lang, "name": LANGUAGES.get(lang, lang), "dir": "rtl" if lang in RTL_LANGUAGES else "ltr"}
        for lang in preschool.languages
        if lang != "sv"
    ]


@dataclass
class Problem:
    """A refused row: its errors and what staff typed (kept in the fields)."""

    key: str
    errors: list[str]
    typed: dict[str, str]


def _row(
    term: Term,
    languages: list[dict[str, str]],
    saved: dict[str, StaffTranslation],
    names: re.Pattern[str] | None,
    can_suggest: bool,
    problem: Problem | None = None,
) -> dict[str, Any]:
    cells = []
    for language in languages:
        entry = saved.get(language["code"])
        typed = problem.typed.get(language["code"]) if problem else None
        cells.append(
            {
                **language,
                "value": typed if typed is not None else (entry.text if entry else ""),
                "suggested": entry is not None and not entry.confirmed,
                "origin": entry.origin if entry else None,
            }
        )
    return {
        "id": term.row_id,
        "source": term.source,
        "kinds": term.kinds,
        "in_use": term.in_use,
        "cells": cells,
        "has_name": HAS_A_NAME if can_suggest and term.in_use and mentions_a_name(term.source, names) else "",
        "errors": problem.errors if problem else [],
    }


def _can_suggest(request: Request) -> bool:
    return bool(settings_of(request).translate_url)


def _page(
    request: Request,
    db: Db,
    preschool: Preschool,
    problem: Problem | None = None,
    notices: list[str] | None = None,
    trouble: str | None = None,
) -> Response:
    terms, saved = _terms(db, preschool)
    languages = _languages(preschool)
    can_suggest = _can_suggest(request)
    names = names_at(db, preschool.id) if can_suggest else None
    rows = [
        _row(
            term,
            languages,
            saved.get(term.key, {}),
            names,
            can_suggest,
            problem if problem and problem.key == term.key else None,
        )
        for term in terms
    ]
    if problem is not None and not any(row["errors"] for row in rows):  # a text no longer listed
        rows.insert(
            0, _row(Term(problem.typed.get("sv", ""), []), languages, {}, names, can_suggest, problem)
        )
    return render(
        request,
        "translations.html",
        {
            "preschool": preschool,
            "languages": languages,
            "rows": rows,
            "can_suggest": can_suggest,
            "saved": CONFIRMATIONS.get(request.query_params.get("saved", "")),
            "notices": notices or [],
            "trouble": trouble,
            "problem": problem,
            "max_length": MAX_TEXT_LENGTH,
        },
        status=400 if problem else 200,
    )


@router.get("", response_class=HTMLResponse)
def translations_page(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    return _page(request, db, preschool_for_staff(db, staff, slug))


@router.post("", dependencies=[CsrfChecked])
def save_translations(request: Request, slug: str, db: Db, staff: CurrentStaff, form: Form) -> Response:
    """One row: `source` (the Swedish text) and `text_<lang>` per language, `confirm_<lang>` to approve
    a machine suggestion as it stands."""
    preschool = preschool_for_staff(db, staff, slug)
    source = form_text(form, "source")[:1000]
    codes = [language["code"] for language in _languages(preschool)]
    typed = {lang: form_text(form, f"text_{lang}")[:2000] for lang in codes if f"text_{lang}" in form}
    confirm = {lang for lang in codes if form_text(form, f"confirm_{lang}")}
    htmx = request.headers.get("hx-request") == "true"
    try:
        changes = save_row(db, preschool.id, source, typed, confirm)
    except TranslationError as exc:
        db.rollback()
        problem = Problem(glossary_key(tidy(source)), exc.errors, {**typed, "sv": source})
        if htmx:
            return _row_response(request, db, preschool, source, problem)
        return _page(request, db, preschool, problem)
    for change in changes:
        audit.record(
            db,
            preschool,
            actor=staff.name,
            user_id=staff.user_id,
            action=change.action,
            subject="translation",
        )
    if htmx:
        return _row_response(request, db, preschool, source)
    return RedirectResponse(
        f"/admin/p/{preschool.slug}/translations?saved=saved#{Term(tidy(source)).row_id}", status_code=303
    )


def _row_response(
    request: Request, db: Db, preschool: Preschool, source: str, problem: Problem | None = None
) -> Response:
    term = Term(tidy(source))
    in_use = {t.key: t for t in terms_in_use(db, preschool, local_now(preschool).date())}
    term = in_use.get(term.key, term)
    if term.key not in in_use:
        term.in_use, term.kinds = False, ["Används inte just nu"]
    can_suggest = _can_suggest(request)
    names = names_at(db, preschool.id) if can_suggest else None
    row = _row(
        term,
        _languages(preschool),
        entries_of(db, preschool.id).get(term.key, {}),
        names,
        can_suggest,
        problem,
    )
    if problem is None:
        row["saved"] = CONFIRMATIONS["saved"]
    return render(
        request,
        "_translation_row.html",
        {"preschool": preschool, "row": row, "can_suggest": can_suggest, "max_length": MAX_TEXT_LENGTH},
        status=400 if problem else 200,
    )


@router.post("/suggest", dependencies=[CsrfChecked])
def suggest(request: Request, slug: str, db: Db, staff: CurrentStaff) -> Response:
    """Machine suggestions for the empty fields of the texts in use, stored unconfirmed. The page again,
    with what was done and any trouble (nothing is lost: what came before the trouble is kept)."""
    preschool = preschool_for_staff(db, staff, slug)
    base_url = settings_of(request).translate_url
    if not base_url:
        return _page(
            request, db, preschool, trouble="Maskinöversättning är inte påslagen på den här servern."
        )
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        notices, trouble = _suggest(db, staff, preschool, client, base_url)
    return _page(request, db, preschool, notices=notices, trouble=trouble)


def _suggest(
    db: Session, staff: Staff, preschool: Preschool, client: httpx.Client, base_url: str
) -> tuple[list[str], str | None]:
    names = names_at(db, preschool.id)
    saved = entries_of(db, preschool.id)
    languages = [language["code"] for language in _languages(preschool)]
    suggested = with_names = 0
    unknown: list[str] = []
    trouble: str | None = None
    left = False
    ends = time.monotonic() + SUGGEST_SECONDS
    asked = 0
    for term in terms_in_use(db, preschool, local_now(preschool).date()):
        missing = [lang for lang in languages if lang not in saved.get(term.key, {}) and lang not in unknown]
        if not missing:
            continue
        if mentions_a_name(term.source, names):
            with_names += 1
            continue
        for lang in missing:
            if asked >= MAX_SUGGESTIONS or time.monotonic() > ends:
                left = True
                break
            asked += 1
            try:
                text = translate(client, base_url, term.source, lang)
            except SourceError as exc:
                if exc.status == 400:  # LibreTranslate: a language it does not know
                    unknown.append(lang)
                    continue
                trouble = in_swedish(exc)
                break
            if add_suggestion(db, preschool.id, lang, term.source, text) is not None:
                suggested += 1
                audit.record(
                    db,
                    preschool,
                    actor=staff.name,
                    user_id=staff.user_id,
                    action="create",
                    subject="translation",
                )
        if trouble or left:
            break
    notices = [
        f"{suggested} förslag har lagts till. Kontrollera dem och godkänn dem innan barnen får höra dem."
    ]
    if with_names:
        notices.append(f"{with_names} texter skickades inte: de innehåller ett namn – översätt dem själv.")
    for lang in unknown:
        notices.append(f"Översättningstjänsten kan inte översätta till {LANGUAGES.get(lang, lang)}.")
    if left:
        notices.append("Det finns fler texter att översätta. Tryck på knappen igen.")
    return notices, trouble
