"""Refreshing fetched menus: every preschool whose menu comes from skolmaten.se or Mashie, at most every
three hours; failures back off; days staff edited are never overwritten (see store.menus)."""

from __future__ import annotations

import datetime as dt
import logging

import httpx
from sqlalchemy import Engine, select

from laiban.config import Settings
from laiban.model.menu import MenuDay
from laiban.sources import SourceError, mashie, skolmaten
from laiban.store.db import session_factory, transaction
from laiban.store.menus import store_fetched
from laiban.store.tables import MenuSource, Preschool, utcnow

log = logging.getLogger("laiban.jobs.menus")

REFRESH_EVERY = dt.timedelta(hours=3)
MAX_BACK_OFF = dt.timedelta(hours=1)
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
NAMES = {"skolmaten": "skolmaten.se", "mashie": "Mashie"}


def _fetch(settings: Settings, client: httpx.Client, kind: str, identifier: str) -> list[MenuDay]:
    if kind == "skolmaten":
        return skolmaten.fetch(client, settings.skolmaten_base_url, identifier)
    return mashie.fetch(client, settings.mashie_base_url, identifier)


def refresh_menus(
    engine: Engine, settings: Settings, now: dt.datetime | None = None, client: httpx.Client | None = None
) -> str:
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
        ).all()
    if not due:
        return "nothing due"
    done = []
    own_client = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        for preschool_id, kind, identifier, slug in due:
            try:  # no transaction is open while the network is asked
                days = _fetch(settings, client, kind, identifier)
                error = None
            except SourceError as exc:
                log.warning("menu for %s failed: %s", slug, exc)
                days, error = [], f"{NAMES[kind]}: {exc.in_swedish()}"  # shown to staff
            with transaction(sessions) as session:
                source = session.get_one(MenuSource, preschool_id)
                source.last_attempt_at = now
                if error is None:
                    stored = store_fetched(session, preschool_id, kind, days)
                    source.last_success_at, source.failures, source.last_error = now, 0, None
                    source.next_attempt_at = None
                    done.append(f"{slug}: {stored} day(s) from {NAMES[kind]}")
                else:
                    source.failures += 1
                    source.last_error = error
                    source.next_attempt_at = now + min(
                        dt.timedelta(minutes=5 * 2**source.failures), MAX_BACK_OFF
                    )
                    done.append(f"{slug} failed: {error}")
    finally:
        if own_client:
            client.close()
    return "; ".join(done)
