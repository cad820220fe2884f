import datetime as dt
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from laiban.model.preschool import Role
from laiban.store import accounts
from laiban.store.db import StoreError, _alembic_config, make_engine, migrate, transaction
from laiban.store.preschools import InvalidSettings, PreschoolSettings, create_organisation, create_preschool
from laiban.store.tables import Device, LoginSession, Preschool, User

from .world import PASSWORD, World

WINDOW = dt.timedelta(minutes=15)


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_a_database_from_a_newer_laiban_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer Laiban"):
        migrate(engine)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////no/such/folder/laiban.db", "does not exist"),
        ("postgresql+psycopg://nobody@127.0.0.1:9/none", "Cannot open the database"),
        ("nonsense+driver://x", "cannot be used"),
    ],
)
def test_unusable_databases_give_one_sentence(url: str, expected: str) -> None:
    with pytest.raises(StoreError, match=expected) as caught:
        migrate(make_engine(url))
    assert "\n" not in str(caught.value)


def test_the_password_is_hidden_in_database_errors() -> None:
    with pytest.raises(StoreError) as caught:
        migrate(make_engine("postgresql+psycopg://laiban:hunter2secret@127.0.0.1:9/none"))
    assert "hunter2secret" not in str(caught.value)


def test_preschool_slugs_are_unique_and_checked(db: Session) -> None:
    organisation = create_organisation(db, "Kommunen")
    create_preschool(db, organisation, "ekorren", PreschoolSettings(name="Ekorren"))
    with pytest.raises(InvalidSettings) as caught:
        create_preschool(db, organisation, "ekorren", PreschoolSettings(name="Ekorren 2"))
    assert "används redan" in caught.value.errors["slug"]
    for bad in ("Ekorren", "ek orren", "-ekorren", "ekorren/../x", ""):
        with pytest.raises(InvalidSettings):
            create_preschool(db, organisation, bad, PreschoolSettings(name="X"))


def test_deleting_a_preschool_removes_its_groups_devices_and_roles(db: Session, world: World) -> None:
    db.delete(db.get_one(Preschool, world.ekorren))
    db.commit()
    assert db.scalar(select(Device).where(Device.preschool_id == world.ekorren)) is None
    user = db.scalar(select(User).where(User.email == world.pedagogue_ekorren))
    assert user is not None and user.memberships == []


def test_foreign_keys_are_enforced(db: Session) -> None:
    db.add(Device(preschool_id=999_999, name="Ghost"))
    with pytest.raises(IntegrityError):
        db.flush()


class TestSettingsForm:
    def parse(self, **form: str) -> PreschoolSettings:
        return PreschoolSettings.parse({"name": "Ekorren", **form}, ["lunch", "weather"], ["en", "sv", "ar"])

    def test_good_values_are_cleaned(self) -> None:
        settings = self.parse(latitude="56,0464", longitude="12.6945", day_starts_at="07:00")
        assert (settings.latitude, settings.longitude) == (56.0464, 12.6945)
        assert settings.modules == ["weather", "lunch"]  # the kiosk's order
        assert settings.languages == ["sv", "en", "ar"]
        assert settings.day_starts_at == dt.time(7, 0)

    def test_every_problem_is_reported_at_once(self) -> None:
        with pytest.raises(InvalidSettings) as caught:
            PreschoolSettings.parse(
                {
                    "name": "",
                    "latitude": "north",
                    "longitude": "200",
                    "timezone": "Mars/Olympus",
                    "day_starts_at": "18:00",
                    "day_ends_at": "08:00",
                },
                ["lunch", "teleport"],
                ["sv", "xx"],
            )
        assert set(caught.value.errors) == {
            "name",
            "latitude",
            "longitude",
            "timezone",
            "modules",
            "languages",
            "day_ends_at",
        }

    def test_half_a_location_is_refused(self) -> None:
        with pytest.raises(InvalidSettings) as caught:
            self.parse(latitude="56.0")
        assert "både latitud och longitud" in caught.value.errors["latitude"]


class TestAccounts:
    def test_passwords_are_hashed_with_argon2(self, db: Session, world: World) -> None:
        user = db.scalar(select(User).where(User.email == world.org_admin_a))
        assert user is not None
        assert user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash

    def test_short_passwords_are_refused(self, db: Session, world: World) -> None:
        with pytest.raises(accounts.AccountError, match="minst 10"):
            accounts.create_user(
                db, organisation_id=world.org_a, email="ny@x.example", name="Ny", password="kort"
            )

    def test_emails_are_unique_regardless_of_case(self, db: Session, world: World) -> None:
        with pytest.raises(accounts.AccountError, match="finns redan"):
            accounts.create_user(
                db, organisation_id=world.org_a, email=world.org_admin_a.upper(), name="X", password=PASSWORD
            )

    def test_roles_only_at_preschools_of_the_users_organisation(self, db: Session, world: World) -> None:
        with pytest.raises(accounts.AccountError):
            accounts.create_user(
                db,
                organisation_id=world.org_a,
                email="x@x.example",
                name="X",
                password=PASSWORD,
                roles={world.myran: Role.ADMIN},
            )

    def authenticate(self, db: Session, email: str, password: str, client: str = "10.0.0.1") -> User | None:
        return accounts.authenticate(db, email, password, client=client, max_failures=3, window=WINDOW)

    def test_authenticate(self, db: Session, world: World) -> None:
        assert self.authenticate(db, world.org_admin_a, PASSWORD) is not None
        assert self.authenticate(db, " CHEF@norrstad.example ", PASSWORD) is not None
        assert self.authenticate(db, world.org_admin_a, PASSWORD + "x") is None
        assert self.authenticate(db, "nobody@x.example", PASSWORD) is None

    def test_inactive_users_cannot_sign_in(self, db: Session, world: World) -> None:
        db.execute(update(User).where(User.email == world.org_admin_a).values(active=False))
        assert self.authenticate(db, world.org_admin_a, PASSWORD) is None

    def test_throttling_per_account_and_per_client(self, db: Session, world: World) -> None:
        for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # one account from many addresses
            assert self.authenticate(db, world.org_admin_a, "wrong password", client) is None
        with pytest.raises(accounts.TooManyAttempts):
            self.authenticate(db, world.org_admin_a, PASSWORD, "10.0.0.4")
        for email in ("a@x.example", "b@x.example", "c@x.example"):  # many accounts from one address
            assert self.authenticate(db, email, "wrong password", "10.9.9.9") is None
        with pytest.raises(accounts.TooManyAttempts):
            self.authenticate(db, world.admin_ekorren, PASSWORD, "10.9.9.9")
        assert self.authenticate(db, world.admin_ekorren, PASSWORD, "10.5.5.5") is not None

    def test_sessions_expire(self, db: Session, world: World) -> None:
        user = db.scalar(select(User).where(User.email == world.org_admin_a))
        assert user is not None
        token = accounts.start_session(db, user, hours=1)
        assert accounts.user_for_session(db, token) == user
        db.execute(update(LoginSession).values(expires_at=accounts.utcnow() - dt.timedelta(seconds=1)))
        assert accounts.user_for_session(db, token) is None
        assert accounts.user_for_session(db, "made-up-token") is None

    def test_a_new_password_ends_all_sessions(self, db: Session, world: World) -> None:
        user = db.scalar(select(User).where(User.email == world.org_admin_a))
        assert user is not None
        token = accounts.start_session(db, user, hours=1)
        accounts.set_password(db, user, "ett helt nytt lösenord")
        assert accounts.user_for_session(db, token) is None


class TestDevices:
    def test_a_pairing_code_works_once(self, sessions: sessionmaker[Session], world: World) -> None:
        with transaction(sessions) as db:
            device, code = accounts.create_device(db, db.get_one(Preschool, world.humlan), "Hallen")
        assert len(code) == accounts.PAIRING_CODE_LENGTH
        with transaction(sessions) as db:
            paired = accounts.pair_device(db, code.lower()[:4] + "-" + code[4:])  # typed sloppily
            assert paired is not None
            token = paired[1]
        with transaction(sessions) as db:
            assert accounts.pair_device(db, code) is None
            found = accounts.device_for_token(db, token)
            assert found is not None and found.id == device.id and found.preschool_id == world.humlan
            stored = db.get_one(Device, device.id)
            assert stored.token_hash != token and stored.pairing_code_hash is None

    def test_expired_codes_do_not_pair(self, db: Session, world: World) -> None:
        device, code = accounts.create_device(db, db.get_one(Preschool, world.humlan), "Hallen")
        device.pairing_expires_at = accounts.utcnow() - dt.timedelta(minutes=1)
        assert accounts.pair_device(db, code) is None

    def test_a_revoked_device_is_refused(self, db: Session, world: World) -> None:
        device = db.get_one(Device, world.device_ekorren_id)
        accounts.revoke_device(device)
        assert accounts.device_for_token(db, world.device_ekorren) is None

    def test_a_device_needs_a_name(self, db: Session, world: World) -> None:
        with pytest.raises(accounts.AccountError):
            accounts.create_device(db, db.get_one(Preschool, world.humlan), "   ")
