"""Users of a tenant: sign-in (throttled, MFA), invitations, password resets, TOTP enrolment.

Failures are deliberately vague: a wrong email, a wrong password and a disabled user all read
"email or password is wrong", and an unknown email still costs one password verification, so
neither the answer nor its timing tells whether an account exists.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NoReturn, Protocol
from uuid import UUID, uuid4

import msgspec

from application.access import USER_ROLES, Principal, Role
from application.ports import Cache
from application.sessions import Session, Sessions
from application.tenants import SecretHasher
from domain.shared.errors import DomainError, InvalidCommand, NotFound

INVITATION_TTL = timedelta(days=3)
RESET_TTL = timedelta(minutes=30)
RECOVERY_CODES = 10


class LoginFailed(DomainError):
    code = "login_failed"


class MfaRequired(DomainError):
    code = "mfa_required"


class Throttled(DomainError):
    code = "too_many_attempts"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class WeakPassword(InvalidCommand):
    code = "weak_password"


class InvalidToken(InvalidCommand):
    code = "invalid_token"


class UserNotFound(NotFound):
    code = "user_not_found"


class NotGrantable(DomainError):
    code = "not_grantable"


class LastOwner(DomainError):
    code = "last_owner"


class Unchanged(enum.Enum):
    """Marks a field a partial update leaves as it is (`stores` may be None: every store)."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


class StoredUser(msgspec.Struct, frozen=True):
    id: UUID
    tenant_id: UUID
    email: str
    password_hash: str
    roles: frozenset[Role]
    stores: frozenset[str] | None
    totp_secret: str | None
    totp_pending: str | None
    disabled: bool


class UserInfo(msgspec.Struct, frozen=True):
    id: UUID
    email: str
    roles: list[Role]
    stores: list[str] | None
    mfa: bool
    disabled: bool
    created_at: datetime


class Mail(msgspec.Struct, frozen=True):
    tenant_id: UUID
    recipient: str
    subject: str
    body: str


class Grant(msgspec.Struct, frozen=True):
    """What an invitation gives, or, for a reset, whose password it resets."""

    purpose: str
    tenant_id: UUID
    email: str
    user_id: UUID | None = None
    roles: frozenset[Role] = frozenset()
    stores: frozenset[str] | None = None


class UserStore(Protocol):
    def by_email(self, tenant_id: UUID, email: str) -> StoredUser | None: ...

    def by_id(self, tenant_id: UUID, user_id: UUID) -> StoredUser | None: ...

    def add(
        self,
        user_id: UUID,
        grant: Grant,
        password_hash: str,
    ) -> bool:
        """False when the tenant already has a user with this email."""
        ...

    def list_users(self, tenant_id: UUID) -> list[UserInfo]: ...

    def set_access(
        self, tenant_id: UUID, user_id: UUID, roles: frozenset[Role], stores: frozenset[str] | None
    ) -> bool:
        """False, and nothing changed, if that would leave the tenant without an enabled owner
        (checked and written in one transaction, so two concurrent demotions cannot both
        pass)."""
        ...

    def set_password(self, user_id: UUID, password_hash: str) -> None: ...

    def disable(self, tenant_id: UUID, user_id: UUID) -> bool:
        """False, and nothing changed, if the user is the tenant's last enabled owner."""
        ...

    def set_totp_pending(self, user_id: UUID, secret: str) -> None: ...

    def enable_totp(self, user_id: UUID, secret: str, code_hashes: list[str]) -> None: ...

    def use_totp_step(self, user_id: UUID, step: int) -> bool:
        """Records a TOTP time step as used; False when it (or a later one) already was."""
        ...

    def use_recovery_code(self, user_id: UUID, code_hash: str) -> bool: ...

    def requires_mfa(self, tenant_id: UUID) -> bool: ...

    def set_requires_mfa(self, tenant_id: UUID, required: bool) -> None: ...

    def issue_token(
        self, token_hash: str, grant: Grant, created_by: str, expires: datetime, mail: Mail
    ) -> None:
        """Stores the token and queues its mail in the outbox, in one transaction."""
        ...

    def find_token(self, token_hash: str, purpose: str, now: datetime) -> Grant | None:
        """The grant of an unused, unexpired token."""
        ...

    def take_token(self, token_hash: str, purpose: str, now: datetime) -> Grant | None:
        """The grant of an unused, unexpired token, marking it used (once, even under races)."""
        ...


class Totp(Protocol):
    def new_secret(self) -> str: ...

    def uri(self, secret: str, account: str) -> str: ...

    def step_of(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step the code belongs to (one step of clock skew allowed), or None."""
        ...


PasswordCheck = Callable[[str, list[str]], list[str]]
"""Problems with a password (empty when acceptable), given words it must not be built from."""


class SignedIn(msgspec.Struct, frozen=True):
    token: str
    session: Session


class Enrolment(msgspec.Struct, frozen=True):
    secret: str
    uri: str


class ThrottlePolicy(msgspec.Struct, frozen=True):
    account_failures: int = 5
    ip_failures: int = 50
    window_seconds: int = 15 * 60


class Users:
    def __init__(
        self,
        store: UserStore,
        hasher: SecretHasher,
        sessions: Sessions,
        cache: Cache,
        check_password: PasswordCheck,
        totp: Totp,
        *,
        throttle: ThrottlePolicy | None = None,
        base_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.sessions = sessions
        self.cache = cache
        self.check_password = check_password
        self.totp = totp
        self.throttle = throttle or ThrottlePolicy()
        self.base_url = base_url
        self._dummy_hash: str | None = None

    # --- sign-in ---------------------------------------------------------------------------

    def login(
        self,
        tenant_id: UUID,
        email: str,
        password: str,
        *,
        ip: str,
        otp: str | None = None,
        recovery_code: str | None = None,
        replacing: str | None = None,
    ) -> SignedIn:
        email = email.strip().lower()
        account = "throttle:account:" + _sha(f"{tenant_id}:{email}")
        address = "throttle:ip:" + ip
        self._refuse_if_throttled(account, address)
        user = self.store.by_email(tenant_id, email)
        if user is None:
            self.hasher.verify(self._dummy(), password)  # the same work as for a real user
            self._fail(account, address)
        if not self.hasher.verify(user.password_hash, password) or user.disabled:
            self._fail(account, address)
        if user.totp_secret is not None:
            if otp is None and recovery_code is None:
                raise MfaRequired("this account needs a one-time code: send otp or recovery_code")
            if not self._second_factor(user, user.totp_secret, otp, recovery_code):
                self._fail(account, address)
        self.cache.delete(account)
        enrolling = user.totp_secret is None and self.store.requires_mfa(tenant_id)
        token, session = self.sessions.start(
            tenant_id,
            user.id,
            user.roles,
            user.stores,
            enrolling=enrolling,
            replacing=replacing,
        )
        return SignedIn(token, session)

    def _second_factor(
        self, user: StoredUser, secret: str, otp: str | None, recovery_code: str | None
    ) -> bool:
        if otp is not None:
            step = self.totp.step_of(secret, otp, datetime.now(UTC))
            return step is not None and self.store.use_totp_step(user.id, step)
        assert recovery_code is not None
        return self.store.use_recovery_code(user.id, _sha(_normalise_code(recovery_code)))

    def _refuse_if_throttled(self, account: str, address: str) -> None:
        limits = ((account, self.throttle.account_failures), (address, self.throttle.ip_failures))
        for key, limit in limits:
            raw = self.cache.get(key)
            if raw is not None and int(raw) >= limit:
                raise Throttled(
                    "too many failed sign-ins; wait a few minutes and try again",
                    retry_after=self.throttle.window_seconds,
                )

    def _fail(self, account: str, address: str) -> NoReturn:
        self.cache.incr(account, self.throttle.window_seconds)
        self.cache.incr(address, self.throttle.window_seconds)
        raise LoginFailed("email or password is wrong")

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # --- owners and admins -------------------------------------------------------------------

    def add(
        self,
        tenant_id: UUID,
        email: str,
        password: str,
        roles: frozenset[Role],
        stores: frozenset[str] | None = None,
    ) -> UUID:
        """A user added directly, without an invitation (the CLI and the demo add the owner)."""
        grant = Grant("invitation", tenant_id, email.strip().lower(), roles=roles, stores=stores)
        return self._add(grant, password)

    def invite(
        self,
        by: Principal,
        email: str,
        roles: frozenset[Role],
        stores: frozenset[str] | None,
    ) -> None:
        email = email.strip().lower()
        _check_user_roles(roles)
        if not by.can_grant(roles, stores):
            raise NotGrantable("you cannot grant more roles or stores than you hold")
        token = secrets.token_urlsafe(32)
        grant = Grant("invitation", by.tenant_id, email, roles=roles, stores=stores)
        mail = Mail(
            by.tenant_id,
            email,
            "You are invited to Kontor",
            f"Accept within {INVITATION_TTL.days} days: POST {self.base_url}"
            f"/v1/invitations/accept with token {token} and a password of your choice.",
        )
        expires = datetime.now(UTC) + INVITATION_TTL
        self.store.issue_token(_sha(token), grant, by.actor, expires, mail)

    def accept(self, token: str, password: str) -> UUID:
        grant = self._redeem(token, "invitation", password)
        return self._add(grant, password)

    def _add(self, grant: Grant, password: str) -> UUID:
        self._require_strong(password, grant.email)
        user_id = uuid4()
        if not self.store.add(user_id, grant, self.hasher.hash(password)):
            raise DomainError(f"{grant.email} already has an account", field="email")
        return user_id

    def disable(self, by: Principal, user_id: UUID) -> None:
        self._manageable(by, user_id)
        if not self.store.disable(by.tenant_id, user_id):
            raise LastOwner("the tenant's last owner cannot be disabled; make another owner first")
        self.sessions.end_all(user_id)

    def change_access(
        self,
        by: Principal,
        user_id: UUID,
        roles: frozenset[Role] | None,
        stores: frozenset[str] | Unchanged | None,
    ) -> StoredUser:
        """Gives a user these roles and stores (None for either: unchanged / `UNCHANGED`).
        Nobody grants more than they hold or changes someone who holds more; the last owner
        keeps the owner role. The user's sessions end at once: their next sign-in carries the
        new grants."""
        user = self._manageable(by, user_id)
        new_roles = user.roles if roles is None else roles
        new_stores = user.stores if isinstance(stores, Unchanged) else stores
        _check_user_roles(new_roles)
        if not by.can_grant(new_roles, new_stores):
            raise NotGrantable("you cannot grant more roles or stores than you hold")
        if (new_roles, new_stores) == (user.roles, user.stores):
            return user
        if not self.store.set_access(by.tenant_id, user_id, new_roles, new_stores):
            raise LastOwner(
                "the tenant's last owner keeps the owner role; make another owner first"
            )
        self.sessions.end_all(user_id)
        return msgspec.structs.replace(user, roles=new_roles, stores=new_stores)

    def visible_to(self, by: Principal, user: UserInfo) -> bool:
        """A caller limited to some stores sees the users limited to (some of) those stores."""
        return _in_scope(by, None if user.stores is None else frozenset(user.stores))

    def _manageable(self, by: Principal, user_id: UUID) -> StoredUser:
        """The user, if `by` may manage them: another store scope's user is not found, and
        someone holding more than `by` (an owner, for an admin) may not be changed."""
        user = self.store.by_id(by.tenant_id, user_id)
        if user is None or not _in_scope(by, user.stores):
            raise UserNotFound(f"no user {user_id}")
        if not by.can_grant(user.roles, user.stores):
            raise NotGrantable("you cannot change a user who holds more roles than you")
        return user

    def require_mfa(self, tenant_id: UUID, required: bool) -> None:
        self.store.set_requires_mfa(tenant_id, required)

    # --- password reset ----------------------------------------------------------------------

    def request_reset(self, tenant_id: UUID, email: str) -> None:
        """Mails a reset token when the account exists; says nothing either way."""
        user = self.store.by_email(tenant_id, email.strip().lower())
        if user is None or user.disabled:
            return
        token = secrets.token_urlsafe(32)
        grant = Grant("password_reset", tenant_id, user.email, user_id=user.id)
        mail = Mail(
            tenant_id,
            user.email,
            "Reset your Kontor password",
            f"Within {RESET_TTL.seconds // 60} minutes: POST {self.base_url}"
            f"/v1/password-reset/confirm with token {token} and your new password. "
            "If you did not ask for this, ignore this mail.",
        )
        expires = datetime.now(UTC) + RESET_TTL
        self.store.issue_token(_sha(token), grant, "system:password_reset", expires, mail)

    def reset(self, token: str, password: str) -> None:
        grant = self._redeem(token, "password_reset", password)
        assert grant.user_id is not None
        self.store.set_password(grant.user_id, self.hasher.hash(password))
        self.sessions.end_all(grant.user_id)

    def _redeem(self, token: str, purpose: str, password: str) -> Grant:
        """Uses up a token, unless the password is refused: the user can try another."""
        token_hash, now = _sha(token), datetime.now(UTC)
        found = self.store.find_token(token_hash, purpose, now)
        if found is not None:
            self._require_strong(password, found.email)
        grant = None if found is None else self.store.take_token(token_hash, purpose, now)
        if grant is None:
            raise InvalidToken("this token is unknown, used or expired", field="token")
        return grant

    def _require_strong(self, password: str, email: str) -> None:
        problems = self.check_password(password, [email, *email.split("@")])
        if problems:
            raise WeakPassword("; ".join(problems), field="password")

    # --- TOTP --------------------------------------------------------------------------------

    def start_totp(self, by: Principal, user_id: UUID) -> Enrolment:
        user = self._user(by, user_id)
        secret = self.totp.new_secret()
        self.store.set_totp_pending(user.id, secret)
        return Enrolment(secret, self.totp.uri(secret, user.email))

    def confirm_totp(self, by: Principal, user_id: UUID, otp: str) -> list[str]:
        """Turns TOTP on once the app shows the right code; returns recovery codes, shown once."""
        user = self._user(by, user_id)
        secret = user.totp_pending
        step = None if secret is None else self.totp.step_of(secret, otp, datetime.now(UTC))
        if secret is None or step is None:
            raise InvalidCommand("the code does not match; start enrolment again", field="otp")
        codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
        self.store.enable_totp(user.id, secret, [_sha(_normalise_code(code)) for code in codes])
        self.store.use_totp_step(user.id, step)
        return codes

    def _user(self, by: Principal, user_id: UUID) -> StoredUser:
        user = self.store.by_id(by.tenant_id, user_id)
        if user is None:
            raise UserNotFound(f"no user {user_id}")
        return user


def _in_scope(by: Principal, stores: frozenset[str] | None) -> bool:
    return by.stores is None or (stores is not None and stores <= by.stores)


def _check_user_roles(roles: frozenset[Role]) -> None:
    if not roles or not roles <= USER_ROLES:
        raise InvalidCommand(
            "a user needs one or more of the roles "
            + ", ".join(sorted(USER_ROLES))
            + " (integrator is for API keys)",
            field="roles",
        )


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _recovery_code() -> str:
    """80 random bits as four groups of four base32 characters: a SHA-256 is hash enough."""
    text = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def _normalise_code(code: str) -> str:
    return code.replace("-", "").replace(" ", "").upper()
