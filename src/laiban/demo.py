"""The demo preschool "Solrosen": fictional children, a day schedule and a menu, ready to try Laiban.

`ensure_demo` is idempotent: it creates the demo the first time and refreshes its data (children,
schedule, this and next week's menu) afterwards, leaving devices and other users alone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from laiban.model.preschool import MODULES, Role
from laiban.store.accounts import create_user, set_password, set_roles
from laiban.store.preschools import (
    PreschoolSettings,
    create_organisation,
    create_preschool,
    preschool_by_slug,
)
from laiban.store.tables import Child, Group, MenuItem, Organisation, ScheduleEvent, User

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
# Fictional children, first names only, each with the animal picture they recognise.
DEMO_CHILDREN = (
    ("Ella", "Blåbär", "cat"),
    ("Noah", "Blåbär", "dog"),
    ("Alice", "Blåbär", "rabbit"),
    ("Omar", "Blåbär", "lion"),
    ("Saga", "Blåbär", "owl"),
    ("Liam", "Lingon", "bear"),
    ("Maja", "Lingon", "hedgehog"),
    ("Hugo", "Lingon", "fox"),
    ("Amira", "Lingon", "butterfly"),
    ("Elias", "Lingon", "frog"),
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


@dataclass(frozen=True)
class DemoResult:
    preschool_id: int
    admin_email: str
    admin_password: str
    created: bool


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

    groups = {group.name: group.id for group in preschool.groups}
    session.execute(delete(Child).where(Child.preschool_id == preschool.id))
    session.add_all(
        Child(preschool_id=preschool.id, group_id=groups[group], first_name=name, avatar=avatar)
        for name, group, avatar in DEMO_CHILDREN
    )
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
    session.flush()
    return DemoResult(preschool.id, DEMO_ADMIN_EMAIL, password, created)
