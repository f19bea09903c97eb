"""Business-rule violations.

Every refusal a service can give is a DomainError subclass with a stable machine code (clients switch on it) and a
translated message (people read it). One handler per surface maps them: the API to a JSON body with the HTTP
status, pages to an inline error. Nothing here touches the database.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status: int = 400
    code: str = "invalid"
    default_message: str | Promise = _("The request could not be carried out.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        code: str | None = None,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        self.field = field
        self.details = details or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": str(self.message)}
        if self.field:
            body["field"] = self.field
        if self.details:
            body["details"] = self.details
        return body


class Invalid(DomainError):
    """400: the input breaks a rule (bad phone number, a building in another community's grid...)."""


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found, or outside your area.")


class Conflict(DomainError):
    """409: the request clashes with the current state (duplicate, already done, changed meanwhile)."""

    status = 409
    code = "conflict"
    default_message = _("This clashes with data that already exists.")
