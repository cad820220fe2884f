"""The audit log page (`/admin/audit`, org admins only): who read or changed children's data, when, at which
preschool and about which child (by id, never by name). Filters: preschool, child id; 100 entries a page.

Reading the log is itself not logged (it would bury the entries that matter).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from laiban.model.preschool import DEFAULT_TIMEZONE
from laiban.store import accounts, audit
from laiban.web.admin.render import render, render_error
from laiban.web.security import Db, OrgAdmin

router = APIRouter(prefix="/admin/audit", include_in_schema=False)

PER_PAGE = 100
MAX_ID = 2**31 - 1
BAD_NUMBER = "{what} ska vara ett heltal, till exempel 12."

# (action, subject) → what was done, in staff's words. Combinations not here are shown as stored.
WHAT = {
    ("read", "children"): "Läste barnlistan",
    ("read", "child"): "Läste ett barns sida",
    ("read", "week"): "Läste ett veckoschema",
    ("read", "day"): "Läste dagsvyn",
    ("read", "guardian"): "Vårdnadshavare läste barnets dag",
    ("read", "guardian_link"): "Läste vårdnadshavarlänkar",
    ("read", "export"): "Laddade ner allt om ett barn",
    ("create", "child"): "Lade till ett barn",
    ("update", "child"): "Ändrade ett barn",
    ("delete", "child"): "Tog bort ett barn",
    ("update", "week"): "Ändrade ett veckoschema",
    ("update", "day"): "Ändrade en dag",
    ("update", "pickup"): "Ändrade en hämtning",
    ("create", "guardian_link"): "Skapade en vårdnadshavarlänk",
    ("update", "guardian_link"): "Ändrade en vårdnadshavarlänk",
    ("delete", "guardian_link"): "Tog bort en vårdnadshavarlänk",
    ("import", "children"): "Importerade barn",
    ("import", "child"): "Importerade barn",
    ("import", "week"): "Importerade veckoscheman",
    ("create", "translation"): "Lade till en översättning",
    ("update", "translation"): "Ändrade en översättning",
    ("delete", "translation"): "Tog bort en översättning",
}


# About a staff account (store.audit.record_account): subject "totp:12", account 12.
ACCOUNT_WHAT = {
    ("create", "totp"): "Slog på tvåstegsverifiering för användare {account}",
    ("delete", "totp"): "Stängde av tvåstegsverifiering för användare {account}",
}


def what_in_words(action: str, subject: str) -> str:
    kind, _, account = subject.partition(":")
    if (action, kind) in ACCOUNT_WHAT and account:
        return ACCOUNT_WHAT[(action, kind)].format(account=account)
    return WHAT.get((action, subject), f"{action} {subject}")


class _NotANumber(ValueError):
    """A filter that is not a positive whole number; the message is one Swedish sentence."""


def _number(request: Request, name: str, label: str) -> int | None:
    """`?name=` as a positive whole number, or None when empty."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_ID:
        raise _NotANumber(BAD_NUMBER.format(what=label))
    return int(raw)


@router.get("", response_class=HTMLResponse)
def audit_page(request: Request, db: Db, staff: OrgAdmin) -> Response:
    try:
        preschool_id = _number(request, "preschool", "Förskolan")
        child_id = _number(request, "child", "Barnets id")
        page = _number(request, "page", "Sidan") or 1
    except _NotANumber as exc:
        return render_error(request, 400, str(exc))
    rows, total = audit.entries(
        db,
        staff.access.organisation_id,
        preschool_id=preschool_id,
        child_id=child_id,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
    )
    preschools = accounts.visible_preschools(db, staff.access)  # an org admin's: all of the organisation's
    by_id = {preschool.id: preschool for preschool in preschools}
    entries = [
        {
            "at": row.at,
            "actor": row.actor,
            "what": what_in_words(row.action, row.subject),
            "preschool": by_id[row.preschool_id].name if row.preschool_id in by_id else "–",
            "slug": by_id[row.preschool_id].slug if row.preschool_id in by_id else "",
            "child_id": row.child_id,
        }
        for row in rows
    ]
    filters = "".join(
        f"&{name}={value}" for name, value in (("preschool", preschool_id), ("child", child_id)) if value
    )
    pages = max(1, -(-total // PER_PAGE))
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "total": total,
            "page": page,
            "pages": pages,
            "filters": filters,
            "preschools": preschools,
            "preschool_id": preschool_id,
            "child_id": child_id,
            "timezone": DEFAULT_TIMEZONE,
            "keep_days": audit.AUDIT_KEEP.days,
        },
    )
