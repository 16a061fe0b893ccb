"""Sign-in sessions, the caller's MFA, users, invitations, password resets, API keys and the
tenant's security settings. None of these are event-sourced: Idempotency-Key is not replayed
here (a replay would have to store a secret; see ADR 0029)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.status_codes import HTTP_204_NO_CONTENT

from application.access import Permission, Principal, Role
from application.tenants import KeyInfo
from application.users import UNCHANGED, LoginFailed, MfaRequired, Throttled
from interfaces.bootstrap import Container
from interfaces.http.access import SESSION_COOKIE
from interfaces.http.client import client_address, over_tls
from interfaces.http.people_schemas import (
    AcceptIn,
    ApiKeyCreatedOut,
    ApiKeyIn,
    ApiKeyOut,
    InvitationIn,
    LoginIn,
    RecoveryCodesOut,
    ResetIn,
    ResetRequestIn,
    SecuritySettingsIn,
    SecuritySettingsOut,
    SessionOut,
    TotpConfirmIn,
    TotpStartOut,
    UserAccessIn,
    UserAccessOut,
)
from interfaces.http.problems import ApiProblem
from interfaces.http.schemas import Page

RESET_REQUESTS_PER_IP = 10
RESET_WINDOW_SECONDS = 15 * 60


def _stores(values: list[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def _sorted(values: frozenset[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


def _log(
    request: Request[Any, Any, Any],
    container: Container,
    principal: Principal,
    action: str,
    subject: str,
    detail: str | None = None,
) -> None:
    """An account action in the security log, with who did it and from which address."""
    container.tenants.store.log(
        principal.tenant_id,
        principal.actor,
        action,
        subject,
        detail,
        client_address(request.scope),
    )


def key_in_scope(principal: Principal, key: KeyInfo) -> bool:
    """A caller limited to some stores manages the keys limited to (some of) those stores."""
    return principal.stores is None or (
        key.stores is not None and set(key.stores) <= principal.stores
    )


def _user_id(principal: Principal) -> UUID:
    kind, _, value = principal.actor.partition(":")
    if kind != "user":
        raise ApiProblem(403, "users_only", "only a signed-in user has a password and MFA")
    return UUID(value)


class SessionController(Controller):
    path = "/v1/session"
    tags = ["people"]

    @post("/", sync_to_thread=True, permission=Permission.PUBLIC)
    def login(
        self, data: LoginIn, request: Request[Any, Any, Any], container: Container
    ) -> Response[SessionOut]:
        """Signs a user in: sets an HttpOnly session cookie (SameSite=Lax; Secure behind TLS) and
        returns the CSRF token to send as `X-CSRF-Token` on every state-changing request.

        Wrong email, wrong password and disabled account all answer the same 401; repeated
        failures per account and per address answer 429 with `Retry-After`."""
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            # A cross-site form can post text/plain that parses as JSON: that would sign the
            # victim's browser into the attacker's account (login CSRF).
            raise ApiProblem(415, "unsupported_media_type", "send the body as application/json")
        address = client_address(request.scope)
        try:
            signed_in = container.users.login(
                data.tenant_id,
                data.email,
                data.password,
                ip=address,
                otp=data.otp,
                recovery_code=data.recovery_code,
                replacing=request.cookies.get(SESSION_COOKIE),
            )
        except Throttled as error:
            raise ApiProblem(
                429, error.code, error.detail, **{"Retry-After": str(error.retry_after)}
            ) from error
        except (LoginFailed, MfaRequired) as error:
            raise ApiProblem(401, error.code, error.detail) from error
        session = signed_in.session
        actor = f"user:{session.user_id}"
        container.tenants.store.log(
            session.tenant_id, actor, "session.started", actor, address=address
        )
        response = Response(
            SessionOut(
                actor=actor,
                roles=sorted(session.roles),
                stores=_sorted(session.stores),
                csrf_token=session.csrf_token,
                mfa_enrolment_required=session.enrolling,
            ),
            status_code=201,
        )
        response.set_cookie(
            SESSION_COOKIE,
            signed_in.token,
            path="/",
            httponly=True,
            secure=over_tls(request.scope),
            samesite="lax",
        )
        return response

    @get("/", sync_to_thread=True, permission=Permission.SELF)
    def current(
        self, request: Request[Any, Any, Any], container: Container, principal: Principal
    ) -> SessionOut:
        """Who is signed in (or which key is used), with the session's CSRF token."""
        token = request.cookies.get(SESSION_COOKIE)
        session = None
        if "authorization" not in request.headers and token:
            session = container.sessions.find(token)
        return SessionOut(
            actor=principal.actor,
            roles=sorted(principal.roles),
            stores=_sorted(principal.stores),
            csrf_token=None if session is None else session.csrf_token,
            mfa_enrolment_required=principal.enrolling,
        )

    @delete("/", sync_to_thread=True, permission=Permission.SELF)
    def logout(self, request: Request[Any, Any, Any], container: Container) -> Response[None]:
        """Ends the session and clears its cookie."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            container.sessions.end(token)
        response = Response(None, status_code=HTTP_204_NO_CONTENT)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


class MeController(Controller):
    path = "/v1/me"
    tags = ["people"]

    @post("/mfa/totp", sync_to_thread=True, permission=Permission.SELF, status_code=200)
    def start_totp(self, container: Container, principal: Principal) -> TotpStartOut:
        """Starts TOTP enrolment: add the secret (or the otpauth URI as a QR code) to an
        authenticator app, then confirm with a code from it."""
        enrolment = container.users.start_totp(principal, _user_id(principal))
        return TotpStartOut(enrolment.secret, enrolment.uri)

    @post("/mfa/totp/confirm", sync_to_thread=True, permission=Permission.SELF, status_code=200)
    def confirm_totp(
        self, data: TotpConfirmIn, container: Container, principal: Principal
    ) -> RecoveryCodesOut:
        """Turns TOTP on and returns ten single-use recovery codes, shown once. Every session of
        the user ends: sign in again with a code."""
        user_id = _user_id(principal)
        codes = container.users.confirm_totp(principal, user_id, data.otp)
        container.sessions.end_all(user_id)
        return RecoveryCodesOut(codes)


class UserController(Controller):
    path = "/v1/users"
    tags = ["people"]

    @get("/", sync_to_thread=True, permission=Permission.USERS)
    def list(self, container: Container, principal: Principal) -> Page[Any]:
        """The tenant's users with their roles, store scopes and whether MFA is on (for a
        caller limited to some stores: the users limited to those stores)."""
        users = container.users.store.list_users(principal.tenant_id)
        return Page([user for user in users if container.users.visible_to(principal, user)], None)

    @patch("/{user_id:uuid}", sync_to_thread=True, permission=Permission.USERS)
    def change_access(
        self,
        user_id: UUID,
        data: UserAccessIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> UserAccessOut:
        """Changes a user's roles and/or stores. Nobody grants more than they hold or changes
        someone who holds more; the last owner keeps the owner role (409 `last_owner`). The
        user's sessions end at once, so the next sign-in carries the new grants."""
        roles = None if data.roles is msgspec.UNSET else frozenset(data.roles)
        stores = UNCHANGED if data.stores is msgspec.UNSET else _stores(data.stores)
        user = container.users.change_access(principal, user_id, roles, stores)
        _log(
            request,
            container,
            principal,
            "user.access_changed",
            f"user:{user_id}",
            f"roles={','.join(sorted(user.roles))} "
            f"stores={'*' if user.stores is None else ','.join(sorted(user.stores))}",
        )
        return UserAccessOut(user.id, user.email, sorted(user.roles), _sorted(user.stores))

    @post("/invitations", sync_to_thread=True, permission=Permission.USERS, status_code=202)
    def invite(
        self,
        data: InvitationIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> dict[str, str]:
        """Mails a single-use invitation (valid 3 days) to set a password and join with these
        roles and stores. Nobody grants more roles or stores than they hold."""
        container.users.invite(principal, data.email, frozenset(data.roles), _stores(data.stores))
        _log(request, container, principal, "user.invited", f"email:{data.email.lower()}")
        return {"status": "invited"}

    @post(
        "/{user_id:uuid}/disable", sync_to_thread=True, permission=Permission.USERS, status_code=200
    )
    def disable(
        self,
        user_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> dict[str, str]:
        """Disables a user and ends every session of theirs at once."""
        container.users.disable(principal, user_id)
        _log(request, container, principal, "user.disabled", f"user:{user_id}")
        return {"status": "disabled"}


class PublicAccountController(Controller):
    path = "/v1"
    tags = ["people"]

    @post("/invitations/accept", sync_to_thread=True, permission=Permission.PUBLIC)
    def accept(self, data: AcceptIn, container: Container) -> dict[str, str]:
        """Accepts an invitation with a password of at least 12 characters that is not easy to
        guess (a passphrase is fine). The token works once."""
        user_id = container.users.accept(data.token, data.password)
        return {"user_id": str(user_id)}

    @post("/password-reset", sync_to_thread=True, permission=Permission.PUBLIC, status_code=202)
    def request_reset(
        self, data: ResetRequestIn, request: Request[Any, Any, Any], container: Container
    ) -> dict[str, str]:
        """Mails a reset token (valid 30 minutes, single use) if the account exists. The answer
        is the same either way."""
        key = "throttle:reset:" + client_address(request.scope)
        if container.cache.incr(key, RESET_WINDOW_SECONDS) > RESET_REQUESTS_PER_IP:
            raise ApiProblem(
                429,
                "too_many_attempts",
                "too many reset requests; wait a few minutes and try again",
                **{"Retry-After": str(RESET_WINDOW_SECONDS)},
            )
        container.users.request_reset(data.tenant_id, data.email)
        return {"status": "if the account exists, a reset mail is on its way"}

    @post(
        "/password-reset/confirm",
        sync_to_thread=True,
        permission=Permission.PUBLIC,
        status_code=200,
    )
    def reset(self, data: ResetIn, container: Container) -> dict[str, str]:
        """Sets a new password with a reset token; every session of the user ends."""
        container.users.reset(data.token, data.password)
        return {"status": "password changed; sign in again"}


class ApiKeyController(Controller):
    path = "/v1/api-keys"
    tags = ["people"]

    @post("/", sync_to_thread=True, permission=Permission.API_KEYS)
    def create(
        self,
        data: ApiKeyIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> ApiKeyCreatedOut:
        """Creates a key limited to these roles (and stores); the key is in this answer only,
        and only its hash is stored. Nobody grants more roles or stores than they hold."""
        roles, stores = frozenset(data.roles), _stores(data.stores)
        if Role.OWNER in roles:
            raise ApiProblem(422, "not_grantable", "an API key cannot have the owner role")
        if not principal.can_grant(roles, stores):
            raise ApiProblem(
                403, "not_grantable", "you cannot grant more roles or stores than you hold"
            )
        created = container.tenants.issue_key(
            principal.tenant_id,
            data.name,
            roles=roles,
            stores=stores,
            actor=principal.actor,
            address=client_address(request.scope),
        )
        return ApiKeyCreatedOut(
            created.key_id, data.name, sorted(roles), _sorted(stores), created.api_key
        )

    @get("/", sync_to_thread=True, permission=Permission.API_KEYS)
    def list(self, container: Container, principal: Principal) -> Page[ApiKeyOut]:
        """The tenant's keys (never their secrets), with creation, last use and revocation
        (for a caller limited to some stores: the keys limited to those stores)."""
        keys = container.tenants.store.list_keys(principal.tenant_id)
        return Page(
            [
                ApiKeyOut(**msgspec.structs.asdict(key))
                for key in keys
                if key_in_scope(principal, key)
            ],
            None,
        )

    @post(
        "/{key_id:uuid}/revoke",
        sync_to_thread=True,
        permission=Permission.API_KEYS,
        status_code=200,
    )
    def revoke(
        self,
        key_id: UUID,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> dict[str, str]:
        """Revokes a key at once, in every process (its cached verification is deleted)."""
        keys = {key.id: key for key in container.tenants.store.list_keys(principal.tenant_id)}
        if key_id not in keys or not key_in_scope(principal, keys[key_id]):
            raise ApiProblem(404, "api_key_not_found", f"no API key {key_id}")
        address = client_address(request.scope)
        if not container.tenants.revoke_key(principal.tenant_id, key_id, principal.actor, address):
            raise ApiProblem(404, "api_key_not_found", f"no API key {key_id}")
        return {"status": "revoked"}


class SecurityController(Controller):
    path = "/v1/security/settings"
    tags = ["people"]

    @get("/", sync_to_thread=True, permission=Permission.SECURITY, every_store=True)
    def read(self, container: Container, principal: Principal) -> SecuritySettingsOut:
        """The tenant's security settings."""
        return SecuritySettingsOut(container.users.store.requires_mfa(principal.tenant_id))

    @post(
        "/", sync_to_thread=True, permission=Permission.SECURITY, every_store=True, status_code=200
    )
    def update(
        self,
        data: SecuritySettingsIn,
        request: Request[Any, Any, Any],
        container: Container,
        principal: Principal,
    ) -> SecuritySettingsOut:
        """With `require_mfa`, users without TOTP may only enrol after signing in."""
        container.users.require_mfa(principal.tenant_id, data.require_mfa)
        _log(
            request,
            container,
            principal,
            "security.require_mfa",
            f"tenant:{principal.tenant_id}={data.require_mfa}",
        )
        return SecuritySettingsOut(data.require_mfa)
