"""Bodies of the sign-in, user, MFA and API key endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from application.access import Role
from interfaces.http.schemas import Code, Email, Name

Password = Annotated[str, Meta(min_length=1, max_length=1024)]
Otp = Annotated[str, Meta(pattern=r"^\s*[0-9]{6}\s*$")]
Token = Annotated[str, Meta(min_length=16, max_length=200)]
Stores = Annotated[list[Code], Meta(min_length=1, max_length=500)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant_id: UUID
    email: Email
    password: Password
    otp: Otp | None = None
    recovery_code: Annotated[str, Meta(max_length=40)] | None = None


class SessionOut(msgspec.Struct):
    actor: str
    roles: list[Role]
    stores: list[str] | None
    csrf_token: str | None = None
    mfa_enrolment_required: bool = False


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    roles: Annotated[list[Role], Meta(min_length=1)]
    stores: Stores | None = None


class UserAccessIn(msgspec.Struct, forbid_unknown_fields=True):
    """A partial update: an absent field stays as it is; `stores: null` means every store."""

    roles: Annotated[list[Role], Meta(min_length=1)] | msgspec.UnsetType = msgspec.UNSET
    stores: Stores | msgspec.UnsetType | None = msgspec.UNSET


class UserAccessOut(msgspec.Struct):
    id: UUID
    email: str
    roles: list[Role]
    stores: list[str] | None


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Token
    password: Password


class ResetRequestIn(msgspec.Struct, forbid_unknown_fields=True):
    tenant_id: UUID
    email: Email


class ResetIn(msgspec.Struct, forbid_unknown_fields=True):
    token: Token
    password: Password


class TotpStartOut(msgspec.Struct):
    secret: str
    otpauth_uri: str


class TotpConfirmIn(msgspec.Struct, forbid_unknown_fields=True):
    otp: Otp


class RecoveryCodesOut(msgspec.Struct):
    recovery_codes: list[str]
    detail: str = "store these codes safely: each signs you in once without your app"


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    roles: Annotated[list[Role], Meta(min_length=1)]
    stores: Stores | None = None


class ApiKeyCreatedOut(msgspec.Struct):
    id: UUID
    name: str
    roles: list[Role]
    stores: list[str] | None
    api_key: str


class ApiKeyOut(msgspec.Struct):
    id: UUID
    name: str
    roles: list[Role]
    stores: list[str] | None
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class SecuritySettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    require_mfa: bool


class SecuritySettingsOut(msgspec.Struct):
    require_mfa: bool
