"""Deleting personal data on schedule: each preschool's presence and pickup details once its retention
has passed (by default when the day is over, in the preschool's own timezone), guardian links that ended
more than a month ago, audit entries older than a year, failed sign-ins older than a day (the throttling
looks back minutes) and sign-in sessions that have expired. Safe to run any number of times.
docs/privacy.md lists every rule."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, or_, select

from laiban.config import Settings
from laiban.store import audit
from laiban.store.children import purge_days
from laiban.store.db import session_factory, transaction
from laiban.store.tables import GuardianLink, LoginFailure, LoginSession, Preschool, utcnow

ENDED_LINKS_KEPT = dt.timedelta(days=30)  # staff still see a revoked or expired link this long
FAILED_SIGN_INS_KEPT = dt.timedelta(days=1)  # e-mail addresses and client addresses of failed sign-ins


def purge_personal_data(engine: Engine, settings: Settings, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    with transaction(session_factory(engine)) as session:
        days = 0
        for preschool in session.scalars(select(Preschool)):
            days += purge_days(session, preschool, now.astimezone(ZoneInfo(preschool.timezone)).date())
        ended = now - ENDED_LINKS_KEPT
        links = session.execute(
            delete(GuardianLink).where(or_(GuardianLink.expires_at < ended, GuardianLink.revoked_at < ended))
        ).rowcount
        entries = audit.purge(session, now)
        failures = session.execute(
            delete(LoginFailure).where(LoginFailure.at < now - FAILED_SIGN_INS_KEPT)
        ).rowcount
        expired = session.execute(delete(LoginSession).where(LoginSession.expires_at < now)).rowcount
    return (
        f"deleted {days} day entries, {links or 0} ended guardian links, {entries} old audit entries, "
        f"{failures or 0} old failed sign-ins, {expired or 0} expired sessions"
    )
