"""A small multi-tenant world for tests: two organisations, three preschools, staff and kiosks."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session

from laiban.model.preschool import Role
from laiban.store import accounts
from laiban.store.preschools import PreschoolSettings, create_organisation, create_preschool
from laiban.store.tables import User

PASSWORD = "korrekt häst batteri"


@cache
def _password_hash() -> str:
    return accounts.hash_password(PASSWORD)


@dataclass(frozen=True)
class World:
    org_a: int
    org_b: int
    ekorren: int  # org A
    humlan: int  # org A
    myran: int  # org B
    org_admin_a: str  # e-mail addresses
    admin_ekorren: str
    pedagogue_ekorren: str
    org_admin_b: str
    device_ekorren: str  # device tokens
    device_myran: str
    device_ekorren_id: int
    device_myran_id: int


def build_world(session: Session) -> World:
    org_a = create_organisation(session, "Norrstads kommun")
    org_b = create_organisation(session, "Söderby kommun")
    ekorren = create_preschool(
        session, org_a, "ekorren", PreschoolSettings(name="Förskolan Ekorren"), ["Svamp"]
    )
    humlan = create_preschool(session, org_a, "humlan", PreschoolSettings(name="Förskolan Humlan"))
    myran = create_preschool(session, org_b, "myran", PreschoolSettings(name="Förskolan Myran"))

    def user(email: str, org: int, *, org_admin: bool = False, roles: dict[int, Role] | None = None) -> str:
        # Hashing is slow on purpose; the world's users share one hash of PASSWORD.
        row = User(
            organisation_id=org,
            email=email,
            name=email.split("@")[0],
            password_hash=_password_hash(),
            is_org_admin=org_admin,
        )
        session.add(row)
        session.flush()
        accounts.set_roles(session, row, roles or {})
        return email

    def paired(preschool) -> tuple[int, str]:  # type: ignore[no-untyped-def]
        device, code = accounts.create_device(session, preschool, "Hallen")
        paired_device = accounts.pair_device(session, code)
        assert paired_device is not None
        return device.id, paired_device[1]

    device_ekorren_id, device_ekorren = paired(ekorren)
    device_myran_id, device_myran = paired(myran)
    return World(
        org_a=org_a.id,
        org_b=org_b.id,
        ekorren=ekorren.id,
        humlan=humlan.id,
        myran=myran.id,
        org_admin_a=user("chef@norrstad.example", org_a.id, org_admin=True),
        admin_ekorren=user("admin@ekorren.example", org_a.id, roles={ekorren.id: Role.ADMIN}),
        pedagogue_ekorren=user("pedagog@ekorren.example", org_a.id, roles={ekorren.id: Role.PEDAGOGUE}),
        org_admin_b=user("chef@soderby.example", org_b.id, org_admin=True),
        device_ekorren=device_ekorren,
        device_myran=device_myran,
        device_ekorren_id=device_ekorren_id,
        device_myran_id=device_myran_id,
    )
