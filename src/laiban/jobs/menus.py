"""Refreshing fetched menus: every preschool whose menu comes from skolmaten.se or Mashie, at most every
three hours; failures back off (an unexpected exception, a bug, counts as a failure of that preschool
only: the round goes on); days staff edited are never overwritten (see store.menus)."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from laiban.config import Settings
from laiban.model.menu import MenuDay
from laiban.sources import DEADLINE, SourceError, mashie, skolmaten
from laiban.store.db import session_factory, transaction
from laiban.store.menus import store_fetched
from laiban.store.tables import MenuSource, Preschool, utcnow

log = logging.getLogger("laiban.jobs.menus")

REFRESH_EVERY = dt.timedelta(hours=3)
MAX_BACK_OFF = dt.timedelta(hours=1)
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
NAMES = {"skolmaten": "skolmaten.se", "mashie": "Mashie"}
# What staff read on the menu page (after the source's name) when something other than the source failed;
# the log has the traceback.
UNEXPECTED = (
    "Något oväntat gick fel när Laiban hämtade matsedeln. Laiban försöker igen senare; den som sköter "
    "servern hittar detaljerna i loggen."
)


def _fetch(
    settings: Settings, client: httpx.Client, kind: str, identifier: str, deadline: float
) -> list[MenuDay]:
    if kind == "skolmaten":
        return skolmaten.fetch(client, settings.skolmaten_base_url, identifier, deadline=deadline)
    return mashie.fetch(client, settings.mashie_base_url, identifier, deadline=deadline)


def refresh_menus(
    engine: Engine,
    settings: Settings,
    now: dt.datetime | None = None,
    client: httpx.Client | None = None,
    *,
    deadline: float = DEADLINE,
) -> str:
    """One round over the preschools whose menu is due; `deadline` is each request's limit in seconds
    (see sources.get)."""
    now = now or utcnow()
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        due = session.execute(
            select(MenuSource.preschool_id, MenuSource.kind, MenuSource.identifier, Preschool.slug)
            .join(Preschool, Preschool.id == MenuSource.preschool_id)
            .where(
                MenuSource.kind != "manual",
                (MenuSource.last_success_at.is_(None)) | (MenuSource.last_success_at < now - REFRESH_EVERY),
                (MenuSource.next_attempt_at.is_(None)) | (MenuSource.next_attempt_at <= now),
            )
            .order_by(Preschool.id)  # the same order every round
        ).all()
    if not due:
        return "nothing due"
    done = []
    own_client = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        for preschool_id, kind, identifier, slug in due:
            try:
                done.append(
                    _refresh(sessions, settings, client, preschool_id, kind, identifier, slug, now, deadline)
                )
            except Exception as exc:  # a bug must not skip the back-off, nor the other preschools
                log.exception("menu for %s failed unexpectedly", slug)
                _failed(sessions, preschool_id, now, f"{NAMES.get(kind, kind)}: {UNEXPECTED}")
                done.append(f"{slug} failed: unexpected {type(exc).__name__} (see the log)")
    finally:
        if own_client:
            client.close()
    return "; ".join(done)


def _refresh(
    sessions: sessionmaker[Session],
    settings: Settings,
    client: httpx.Client,
    preschool_id: int,
    kind: str,
    identifier: str,
    slug: str,
    now: dt.datetime,
    deadline: float,
) -> str:
    """One preschool's menu: fetched and stored, or a failure recorded; what happened, for the log line."""
    try:  # no transaction is open while the network is asked
        days = _fetch(settings, client, kind, identifier, deadline)
    except SourceError as exc:
        log.warning("menu for %s failed: %s", slug, exc)
        error = f"{NAMES[kind]}: {exc.in_swedish()}"  # shown to staff
        _failed(sessions, preschool_id, now, error)
        return f"{slug} failed: {error}"
    with transaction(sessions) as session:
        source = session.get_one(MenuSource, preschool_id)
        stored = store_fetched(session, preschool_id, kind, days)
        source.last_attempt_at = source.last_success_at = now
        source.failures, source.last_error, source.next_attempt_at = 0, None, None
    return f"{slug}: {stored} day(s) from {NAMES[kind]}"


def _failed(sessions: sessionmaker[Session], preschool_id: int, now: dt.datetime, error: str) -> None:
    """Records a failed attempt and when to try again (backing off)."""
    with transaction(sessions) as session:
        source = session.get_one(MenuSource, preschool_id)
        source.last_attempt_at = now
        source.failures += 1
        source.last_error = error
        # The exponent is capped: 2**39 minutes would overflow timedelta after a day and a half of failures.
        source.next_attempt_at = now + min(
            dt.timedelta(minutes=5 * 2 ** min(source.failures, 10)), MAX_BACK_OFF
        )
