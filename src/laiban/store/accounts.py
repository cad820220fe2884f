"""Staff accounts, sign-in sessions, throttling and kiosk devices.

Secrets (passwords, session tokens, device tokens, pairing codes) are never stored as given:
passwords as argon2 hashes, random tokens as SHA-256 (they are long and random, so a fast hash is enough).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from laiban.model.preschool import Role
from laiban.sealing import NotSealedHere, SecretBox
from laiban.store import password_policy, totp
from laiban.store.tables import Device, LoginFailure, LoginSession, Membership, Preschool, User, utcnow

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so that both cases take the same time."""
    return _hasher.hash("not a real password, only for constant timing")


MIN_PASSWORD_LENGTH = password_policy.MIN_LENGTH
SESSION_SEEN_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often
PENDING_CODE_SECONDS = 300  # a correct password waits this long for the sign-in code
PENDING_ENROLMENT_SECONDS = 900  # switching codes on: the new secret waits this long for its first code
PAIRING_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed on a tablet
PAIRING_CODE_LENGTH = 8
PAIRING_VALID_FOR = dt.timedelta(hours=24)


class AccountError(ValueError):
    """Bad input for an account operation; the message is a sentence for the person."""


class TooManyAttempts(Exception):
    """Too many failed attempts from this address or for this account; try again later."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why a password cannot be used, in Swedish, or None when it can: too short, too common (a shipped
    list, see store/password_policy.py) or built from the account's e-mail or name."""
    return password_policy.password_problem(password, email=email, name=name)


def hash_password(password: str, *, email: str = "", name: str = "") -> str:
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise AccountError(problem)
    return _hasher.hash(password)


def create_user(
    session: Session,
    *,
    organisation_id: int,
    email: str,
    name: str,
    password: str,
    is_org_admin: bool = False,
    roles: dict[int, Role] | None = None,
) -> User:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254 or " " in email:
        raise AccountError("Ange en giltig e-postadress.")
    if not name.strip():
        raise AccountError("Ange ett namn.")
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise AccountError("Det finns redan en användare med den e-postadressen.")
    user = User(
        organisation_id=organisation_id,
        email=email,
        name=name.strip(),
        password_hash=hash_password(password, email=email, name=name),
        is_org_admin=is_org_admin,
    )
    session.add(user)
    session.flush()
    set_roles(session, user, roles or {})
    return user


def set_roles(session: Session, user: User, roles: dict[int, Role]) -> None:
    """Replace the user's per-preschool roles; preschools must belong to the user's organisation."""
    if roles:
        found = session.scalars(
            select(Preschool.id).where(
                Preschool.id.in_(roles), Preschool.organisation_id == user.organisation_id
            )
        ).all()
        if len(found) != len(roles):
            raise AccountError("En förskola hör inte till organisationen.")
    session.execute(delete(Membership).where(Membership.user_id == user.id))
    for preschool_id, role in roles.items():
        session.add(Membership(user_id=user.id, preschool_id=preschool_id, role=Role(role).value))
    session.flush()
    session.expire(user, ["memberships"])


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password, email=user.email, name=user.name)
    end_all_sessions(session, user)  # a new password signs the user out everywhere


def end_all_sessions(session: Session, user: User) -> None:
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def check_throttle(session: Session, keys: list[str], max_failures: int, window: dt.timedelta) -> None:
    since = utcnow() - window
    for key in keys:
        count = session.scalar(select(func.count()).where(LoginFailure.key == key, LoginFailure.at >= since))
        if (count or 0) >= max_failures:
            raise TooManyAttempts()


def record_failure(session: Session, keys: list[str]) -> None:
    # Failures older than a day never count again (windows are minutes); drop them as we go.
    session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - dt.timedelta(days=1)))
    for key in keys:
        session.add(LoginFailure(key=key))
    session.flush()


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    client: str,
    max_failures: int,
    window: dt.timedelta,
) -> User | None:
    """The active user with this e-mail and password, or None. Raises TooManyAttempts when throttled.

    Failures count per account and per client address, so one address cannot guess many accounts and
    many addresses cannot guess one account.
    """
    email = normalise_email(email)
    keys = [f"login-email:{email}", f"login-client:{client}"]
    check_throttle(session, keys, max_failures, window)
    user = session.scalar(select(User).where(User.email == email))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        record_failure(session, keys)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
    return user


def start_session(session: Session, user: User, hours: int) -> str:
    """A fresh random session token (a new one at every sign-in: no session fixation)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
            last_seen_at=now,
        )
    )
    session.execute(delete(LoginSession).where(LoginSession.expires_at < now))
    return token


def user_for_session(
    session: Session, token: str, *, idle: dt.timedelta | None = None, now: dt.datetime | None = None
) -> User | None:
    """The signed-in user of this session token, or None when there is no such session, it has expired
    (its absolute end, or `idle` without a request) or the user was switched off. Notes the use."""
    now = now or utcnow()
    row = session.get(LoginSession, token_hash(token))
    if row is None or row.expires_at <= now or not row.user.active:
        return None
    seen = row.last_seen_at or row.created_at
    if idle is not None and now - seen >= idle:
        session.delete(row)  # idle too long: gone for good, not only until the next request
        return None
    if now - seen >= SESSION_SEEN_EVERY:
        row.last_seen_at = now
    return row.user


def end_session(session: Session, token: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.token_hash == token_hash(token)))


# --- sign-in codes (TOTP) -------------------------------------------------------------------------


class CodeRefused(Exception):
    """The sign-in code is wrong, was used already, or the pending sign-in has expired."""


def _totp_box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, "totp secret v1")


def _pending_box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, "pending sign-in v1")


def _enrolment_box(secret_key: str) -> SecretBox:
    return SecretBox(secret_key, "totp enrolment v1")


def _owner(user: User) -> bytes:
    return f"user:{user.id}".encode()


def _password_mark(user: User) -> str:
    """Changes with the password: a pending state made before a password change is void after it."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def has_totp(user: User) -> bool:
    return user.totp_secret is not None


def _secret_of(user: User, secret_key: str) -> str:
    assert user.totp_secret is not None
    return _totp_box(secret_key).open(user.totp_secret, _owner(user)).decode("ascii")


def start_totp_enrolment(user: User, secret_key: str, now: float | None = None) -> tuple[str, str]:
    """A new secret for the user to add to an authenticator app, and the sealed form the confirmation
    sends back (nothing is stored until a code from the app proves it was added)."""
    secret = totp.new_secret()
    issued = int(time.time() if now is None else now)
    plain = json.dumps({"secret": secret, "issued": issued, "mark": _password_mark(user)}).encode()
    return secret, _enrolment_box(secret_key).seal(plain, _owner(user))


def enrolment_secret(user: User, sealed: str, secret_key: str, now: float | None = None) -> str | None:
    """The secret of a pending enrolment of this user, or None when it is not one or has expired."""
    try:
        state = json.loads(_enrolment_box(secret_key).open(sealed, _owner(user)))
    except (NotSealedHere, ValueError):
        return None
    now = time.time() if now is None else now
    fresh = 0 <= now - state["issued"] <= PENDING_ENROLMENT_SECONDS
    if state.get("mark") != _password_mark(user) or not fresh:
        return None
    return str(state["secret"])


def confirm_totp(
    session: Session, user: User, sealed: str, code: str, secret_key: str, now: float | None = None
) -> bool:
    """Switches codes on if `code` is the pending secret's current code; True when it did."""
    secret = enrolment_secret(user, sealed, secret_key, now)
    step = totp.matching_step(secret, code, now=now) if secret else None
    if secret is None or step is None:
        return False
    user.totp_secret = _totp_box(secret_key).seal(secret.encode("ascii"), _owner(user))
    user.totp_last_step = step  # the code just shown cannot sign anyone in
    session.flush()
    return True


def disable_totp(session: Session, user: User) -> None:
    """Sign-in with the password alone again (an org admin's help for a lost phone, or the user's wish)."""
    user.totp_secret = None
    user.totp_last_step = None
    session.flush()


def use_code(session: Session, user: User, code: str, secret_key: str, now: float | None = None) -> bool:
    """Whether `code` is the user's code now (±1 step) and not used before; a used code is remembered,
    atomically, so that two requests with the same code cannot both pass."""
    if user.totp_secret is None:
        return False
    try:
        secret = _secret_of(user, secret_key)
    except NotSealedHere:
        return False  # sealed under another secret key: an org admin must switch codes off
    step = totp.matching_step(secret, code, now=now, after=user.totp_last_step)
    if step is None:
        return False
    claimed = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    session.refresh(user, ["totp_last_step"])
    return claimed.rowcount == 1


def pending_sign_in(user: User, secret_key: str, now: float | None = None) -> str:
    """The sealed state of "password right, code not yet given", kept in a short-lived cookie."""
    issued = int(time.time() if now is None else now)
    plain = json.dumps({"user": user.id, "issued": issued, "mark": _password_mark(user)}).encode()
    return _pending_box(secret_key).seal(plain, b"pending")


def pending_user(session: Session, sealed: str, secret_key: str, now: float | None = None) -> User | None:
    """The user whose password was right in the last PENDING_CODE_SECONDS, if still active, with codes
    on and the same password; else None."""
    try:
        state = json.loads(_pending_box(secret_key).open(sealed, b"pending"))
        user_id, issued, mark = int(state["user"]), int(state["issued"]), str(state["mark"])
    except (NotSealedHere, ValueError, KeyError, TypeError):
        return None
    now = time.time() if now is None else now
    if not 0 <= now - issued <= PENDING_CODE_SECONDS:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or not has_totp(user) or _password_mark(user) != mark:
        return None
    return user


def check_code(
    session: Session,
    user: User,
    code: str,
    secret_key: str,
    *,
    client: str,
    max_failures: int,
    window: dt.timedelta,
    now: float | None = None,
) -> None:
    """The second step of signing in. Raises TooManyAttempts when throttled (per account and per client
    address, like the password), CodeRefused when the code is wrong or used."""
    keys = [f"login-code:{user.id}", f"login-client:{client}"]
    check_throttle(session, keys, max_failures, window)
    if not use_code(session, user, code, secret_key, now):
        record_failure(session, keys)
        raise CodeRefused()
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))


# --- what a user may do ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """A signed-in user's reach: the preschools they may see and their role at each."""

    user_id: int
    organisation_id: int
    is_org_admin: bool
    roles: dict[int, Role]

    def role_at(self, preschool: Preschool) -> Role | None:
        if preschool.organisation_id != self.organisation_id:
            return None
        if self.is_org_admin:
            return Role.ADMIN
        return self.roles.get(preschool.id)


def access_for(user: User) -> Access:
    return Access(
        user_id=user.id,
        organisation_id=user.organisation_id,
        is_org_admin=user.is_org_admin,
        roles={m.preschool_id: Role(m.role) for m in user.memberships},
    )


def visible_preschools(session: Session, access: Access) -> list[Preschool]:
    query = select(Preschool).where(Preschool.organisation_id == access.organisation_id)
    if not access.is_org_admin:
        query = query.where(Preschool.id.in_(access.roles))
    return list(session.scalars(query.order_by(Preschool.name)))


# --- kiosk devices --------------------------------------------------------------------------------


def create_device(
    session: Session, preschool: Preschool, name: str, group_id: int | None = None
) -> tuple[Device, str]:
    """A new, not yet paired device and its one-time pairing code (shown once, stored hashed); a device
    may belong to one of the preschool's groups."""
    name = name.strip()
    if group_id is not None and group_id not in {group.id for group in preschool.groups}:
        raise AccountError("Välj en avdelning på den här förskolan.")
    if not name or len(name) > 100:
        raise AccountError("Ge surfplattan ett namn (högst 100 tecken), till exempel ”Hallen”.")
    code = "".join(secrets.choice(PAIRING_CODE_ALPHABET) for _ in range(PAIRING_CODE_LENGTH))
    device = Device(
        preschool_id=preschool.id,
        group_id=group_id,
        name=name,
        pairing_code_hash=token_hash(code),
        pairing_expires_at=utcnow() + PAIRING_VALID_FOR,
    )
    session.add(device)
    session.flush()
    return device, code


def normalise_pairing_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def pair_device(session: Session, code: str) -> tuple[Device, str] | None:
    """Exchange a valid pairing code for the device's long-lived token; the code works once."""
    device = session.scalar(
        select(Device).where(Device.pairing_code_hash == token_hash(normalise_pairing_code(code)))
    )
    now = utcnow()
    if (
        device is None
        or device.revoked_at
        or not device.pairing_expires_at
        or device.pairing_expires_at < now
    ):
        return None
    token = secrets.token_urlsafe(32)
    device.token_hash = token_hash(token)
    device.pairing_code_hash = None
    device.pairing_expires_at = None
    device.paired_at = now
    return device, token


def device_for_token(session: Session, token: str) -> Device | None:
    # With its preschool in the same read: every kiosk request needs it.
    device = session.scalar(
        select(Device).options(joinedload(Device.preschool)).where(Device.token_hash == token_hash(token))
    )
    if device is None or device.revoked_at is not None:
        return None
    now = utcnow()
    # Written at most every few minutes: a kiosk polls often and this is not worth a write each time.
    if device.last_seen_at is None or now - device.last_seen_at > dt.timedelta(minutes=5):
        device.last_seen_at = now
    return device


def revoke_device(device: Device) -> None:
    device.revoked_at = utcnow()
    device.token_hash = None
    device.pairing_code_hash = None
