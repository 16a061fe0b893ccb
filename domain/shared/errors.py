"""Domain refusals. Each has a stable machine-readable `code`; interfaces map kinds to statuses."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused because it breaks a business rule (HTTP 409 by default)."""

    code = "rule_violated"

    def __init__(self, detail: str, **context: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class InvalidCommand(DomainError):
    """The command is malformed whatever the state (HTTP 422)."""

    code = "invalid_command"


class NotFound(DomainError):
    """The command names something that does not exist (HTTP 404 or 422)."""

    code = "not_found"
