"""The audit log of children's data: every admin read or write of it, and every guardian's change.

An entry holds ids, the actor's name at the time and what was done, never a child's name. Org admins read
it (`/admin/audit`); entries older than `AUDIT_KEEP` are deleted by the retention job.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from laiban.store.tables import AuditEntry, Preschool, utcnow

AUDIT_KEEP = dt.timedelta(days=365)
ACTIONS = ("read", "create", "update", "delete", "import")


def record(
    session: Session,
    preschool: Preschool,
    *,
    actor: str,
    action: str,
    subject: str,
    user_id: int | None = None,
    child_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """One entry: `actor` is the staff member's name or the guardian link's label, `subject` what kind of
    data ("children", "child", "week", "day", "guardian_link", …)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEntry(
            organisation_id=preschool.organisation_id,
            preschool_id=preschool.id,
            at=at or utcnow(),
            user_id=user_id,
            actor=actor[:200],
            action=action,
            subject=subject,
            child_id=child_id,
        )
    )


def record_account(
    session: Session,
    organisation_id: int,
    *,
    actor: str,
    action: str,
    account_id: int,
    what: str = "totp",
    user_id: int | None = None,
    at: dt.datetime | None = None,
) -> None:
    """One entry about a staff account's security (no preschool): `what` of the account `account_id`
    (subject "totp:12"), done by `actor` (a staff member, or "Kommandoraden" for `laiban users`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEntry(
            organisation_id=organisation_id,
            preschool_id=None,
            at=at or utcnow(),
            user_id=user_id,
            actor=actor[:200],
            action=action,
            subject=f"{what}:{account_id}",
        )
    )


def entries(
    session: Session,
    organisation_id: int,
    *,
    preschool_id: int | None = None,
    child_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """The organisation's entries, newest first, and how many there are in all."""
    query = select(AuditEntry).where(AuditEntry.organisation_id == organisation_id)
    if preschool_id is not None:
        query = query.where(AuditEntry.preschool_id == preschool_id)
    if child_id is not None:
        query = query.where(AuditEntry.child_id == child_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def purge(session: Session, now: dt.datetime) -> int:
    """Deletes entries older than a year; how many."""
    return session.execute(delete(AuditEntry).where(AuditEntry.at < now - AUDIT_KEEP)).rowcount or 0
