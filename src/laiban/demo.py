"""The demo preschool "Solrosen": fictional children, a day schedule and a menu, ready to try Laiban.

`ensure_demo` is idempotent: it creates the demo the first time and refreshes its data (children and their
weeks, today's pickup changes, schedule, this and next week's menu) afterwards, leaving devices and other
users alone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from laiban.model.preschool import MODULES, Role
from laiban.store.accounts import create_device, create_user, set_password, set_roles
from laiban.store.children import (
    Plan,
    add_child,
    children_of,
    delete_child,
    parse_clock,
    set_day,
    set_pickup,
    set_week,
    update_child,
)
from laiban.store.preschools import (
    PreschoolSettings,
    create_organisation,
    create_preschool,
    preschool_by_slug,
)
from laiban.store.tables import (
    Device,
    Group,
    MenuItem,
    Organisation,
    Preschool,
    Presence,
    ScheduleEvent,
    User,
)

DEMO_SLUG = "solrosen"
DEMO_ADMIN_EMAIL = "demo@solrosen.example"
DEMO_SETTINGS = PreschoolSettings(
    name="Förskolan Solrosen",
    address="Solrosvägen 1, 252 20 Helsingborg",
    latitude=56.0464,
    longitude=12.6945,
    modules=list(MODULES),
    languages=["sv", "en", "ar"],
)
DEMO_GROUPS = ("Blåbär", "Lingon")
# Fictional children, first names only, each with the animal picture they recognise, and their usual
# week: arrival, pickup and who picks up ("" = nobody told), on the weekdays they come (0 = Monday).
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
DEMO_CHILDREN = (
    ("Ella", "Blåbär", "cat", "07:45", "16:15", "mamma", MONDAY_TO_FRIDAY),
    ("Noah", "Blåbär", "dog", "08:00", "16:00", "pappa", MONDAY_TO_FRIDAY),
    ("Alice", "Blåbär", "rabbit", "08:30", "15:00", "farmor", (0, 1, 2, 3)),
    ("Omar", "Blåbär", "lion", "07:30", "16:30", "Ali", MONDAY_TO_FRIDAY),
    ("Saga", "Blåbär", "owl", "09:00", "14:00", "", MONDAY_TO_FRIDAY),
    ("Liam", "Lingon", "bear", "07:00", "16:00", "mamma", MONDAY_TO_FRIDAY),
    ("Maja", "Lingon", "hedgehog", "08:15", "15:45", "morfar", MONDAY_TO_FRIDAY),
    ("Hugo", "Lingon", "fox", "08:00", "16:30", "taxi", (1, 2, 3, 4)),
    ("Amira", "Lingon", "butterfly", "08:00", "16:00", "mamma", MONDAY_TO_FRIDAY),
    ("Elias", "Lingon", "frog", None, None, "", ()),  # no schedule yet: Laiban says it does not know
)
DEMO_SCHEDULE = (
    ("08:00", "breakfast", "Frukost"),
    ("09:00", "gathering", "Samling"),
    ("09:30", "fruit", "Fruktstund"),
    ("10:00", "outdoor", "Utevistelse"),
    ("11:15", "lunch", "Lunch"),
    ("12:00", "rest", "Vila"),
    ("14:30", "snack", "Mellanmål"),
    ("15:00", "outdoor", "Utevistelse"),
)
# Two weeks of lunches, Monday to Friday, as a kitchen would write them.
DEMO_LUNCHES = (
    ("Köttbullar med potatismos och lingonsylt", "Vegetariska bullar med potatismos"),
    ("Krämig fiskgratäng med dill, serveras med kokt potatis (MSC)", "Grönsaksgratäng med kokt potatis"),
    ("Pasta med tomatsås och riven ost", "Pasta med linssås"),
    ("Kycklinggryta med ris", "Kikärtsgryta med ris"),
    ("Pannkakor med sylt och grädde", "Ärtsoppa"),
    ("Fiskpinnar med potatis och remouladsås", "Grönsaksbiffar med potatis"),
    ("Spaghetti och köttfärssås", "Spaghetti med sojafärssås"),
    ("Potatis- och purjolökssoppa med bröd", "Potatis- och purjolökssoppa med bröd"),
    ("Korv stroganoff med ris", "Vegokorv stroganoff med ris"),
    ("Lax med potatis och gröna ärter", "Falafel med potatis och tzatziki"),
)


def _demo_children(session: Session, preschool: Preschool, today: dt.date) -> None:
    """The demo children (kept, so their ids and guardian links survive a refresh), their weeks, and two
    changes for `today`: Ella goes home earlier with her grandmother, Omar stays at home."""
    groups = {group.name: group.id for group in preschool.groups}
    existing = {child.first_name: child for child in children_of(session, preschool.id, active_only=False)}
    for child in existing.values():
        if child.first_name not in {name for name, *_ in DEMO_CHILDREN}:
            delete_child(session, child)
    for name, group, avatar, arrives, leaves, pickup_by, weekdays in DEMO_CHILDREN:
        child = existing.get(name) or add_child(session, preschool, name, groups[group], avatar)
        update_child(session, preschool, child, name, groups[group], avatar, active=True)
        plan = Plan(parse_clock(arrives or ""), parse_clock(leaves or ""), pickup_by)
        set_week(session, preschool, child, dict.fromkeys(weekdays, plan))
        session.execute(delete(Presence).where(Presence.child_id == child.id, Presence.day == today))
        if today.weekday() in weekdays and name == "Ella":
            set_pickup(
                session, preschool, child, today, dt.time(15, 30), "mormor", by="Mamma (vårdnadshavare)"
            )
        if today.weekday() in weekdays and name == "Omar":
            set_day(session, preschool, child, today, absent=True, plan=Plan(), by="Demo Pedagog")


DEMO_KIOSK = "Demo-surfplatta"


@dataclass(frozen=True)
class DemoResult:
    preschool_id: int
    admin_email: str
    admin_password: str
    created: bool
    kiosk_code: str  # a one-time pairing code for a kiosk in the group Blåbär (valid 24 hours)


def ensure_demo(session: Session, today: dt.date, password: str | None = None) -> DemoResult:
    """Create or refresh the demo preschool; the demo admin gets a new password (printed by the CLI)."""
    password = password or "solros-" + secrets.token_hex(4)
    preschool = preschool_by_slug(session, DEMO_SLUG)
    created = preschool is None
    if preschool is None:
        organisation = create_organisation(session, "Demokommunen")
        preschool = create_preschool(session, organisation, DEMO_SLUG, DEMO_SETTINGS, DEMO_GROUPS)
    else:
        organisation = session.get_one(Organisation, preschool.organisation_id)
        DEMO_SETTINGS.apply(preschool)
        for name in DEMO_GROUPS:
            if name not in {group.name for group in preschool.groups}:
                preschool.groups.append(Group(name=name))
        session.flush()

    admin = session.scalar(select(User).where(User.email == DEMO_ADMIN_EMAIL))
    if admin is None:
        admin = create_user(
            session,
            organisation_id=organisation.id,
            email=DEMO_ADMIN_EMAIL,
            name="Demo Pedagog",
            password=password,
            is_org_admin=True,
        )
    else:
        set_password(session, admin, password)
        admin.active = True
    set_roles(session, admin, {preschool.id: Role.ADMIN})

    _demo_children(session, preschool, today)
    session.execute(delete(ScheduleEvent).where(ScheduleEvent.preschool_id == preschool.id))
    session.add_all(
        ScheduleEvent(preschool_id=preschool.id, at=dt.time.fromisoformat(at), kind=kind, title=title)
        for at, kind, title in DEMO_SCHEDULE
    )
    monday = today - dt.timedelta(days=today.weekday())
    days = [monday + dt.timedelta(days=week * 7 + weekday) for week in (0, 1) for weekday in range(5)]
    session.execute(delete(MenuItem).where(MenuItem.preschool_id == preschool.id, MenuItem.day.in_(days)))
    for day, (dish, alternative) in zip(days, DEMO_LUNCHES, strict=True):
        session.add(MenuItem(preschool_id=preschool.id, day=day, meal="lunch", position=0, text=dish))
        session.add(MenuItem(preschool_id=preschool.id, day=day, meal="lunch", position=1, text=alternative))
    # A fresh pairing code each time; the codes of earlier runs that nobody used are removed.
    session.execute(
        delete(Device).where(
            Device.preschool_id == preschool.id, Device.name == DEMO_KIOSK, Device.paired_at.is_(None)
        )
    )
    blueberry = next(group.id for group in preschool.groups if group.name == "Blåbär")
    _, kiosk_code = create_device(session, preschool, DEMO_KIOSK, blueberry)
    session.flush()
    return DemoResult(preschool.id, DEMO_ADMIN_EMAIL, password, created, kiosk_code)
