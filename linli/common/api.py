"""What every app's API router shares: authentication, the actor, error bodies and paging.

Authentication (tried in this order, first match wins):

1. ``Authorization: Bearer lnl_...`` — a token issued by staff (``linli.org.services.api_token_issue``).
   A Bearer header that does not hold a live token is refused with 401 at once; it never falls back to the
   session.
2. The Django session of a signed-in page user. Unsafe methods (POST, PATCH, DELETE ...) must carry the CSRF
   token, exactly like a form; a missing or wrong one is a 403 ``csrf_failed``.

Every refusal and every piece of bad input is a JSON body ``{"code", "message", ...}`` with a stable ``code``:

    400 invalid_input (schema), invalid_json (body is not JSON), and the DomainError codes of the services
    401 unauthenticated      403 forbidden / csrf_failed      404 not_found      409 conflict codes
    413 body_too_large (over DATA_UPLOAD_MAX_MEMORY_SIZE)

Handlers get the actor with :func:`actor` (loaded once per request) and page lists with :func:`paginate`.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf
from pydantic import field_validator

from linli.common.errors import DomainError, Forbidden, Invalid
from linli.org.access import ANONYMOUS, Actor, actor_for

# --- errors -------------------------------------------------------------------------------------------------


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    default_message = _("Please sign in, or send a valid API token.")


class ErrorOut(Schema):
    """The body of every refusal."""

    code: str = Field(..., examples=["not_found"])
    message: str
    field: str | None = None
    details: Any = None


# The refusals any authenticated endpoint may give; merge into an operation's `response=`.
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    """`response=` for an operation: its success schemas plus the shared error bodies (for the spec)."""
    return {**ok, **ERRORS}


def _body(api: NinjaAPI, request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


def _clean_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep what a client needs (where, what, why); drop pydantic's `ctx`/`input`, which may not be JSON."""
    cleaned = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        cleaned.append({"loc": loc, "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))})
    return cleaned


def install_error_handlers(api: NinjaAPI) -> None:
    """Map every refusal to a JSON body with a stable code. Called once, where the NinjaAPI is built."""

    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return _body(api, request, exc.status, exc.as_dict())

    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        details = _clean_validation_errors(exc.errors)
        fields = [d["loc"][-1] for d in details if d["loc"]]
        return _body(
            api,
            request,
            400,
            {
                "code": "invalid_input",
                "message": str(_("Some of the input is missing or has the wrong form: %(fields)s"))
                % {"fields": ", ".join(dict.fromkeys(fields)) or "-"},
                "details": details,
            },
        )

    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        message = str(_("Not found, or outside your area."))
        return _body(api, request, 404, {"code": "not_found", "message": message})

    def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return domain_error(request, Unauthenticated())

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # ninja's body parser: json.JSONDecodeError / UnicodeDecodeError are ValueErrors
            return _body(
                api,
                request,
                400,
                {
                    "code": "invalid_json",
                    "message": str(_("The request body is not valid JSON.")),
                },
            )
        codes = {
            400: "invalid",
            401: "unauthenticated",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            429: "throttled",
        }
        return _body(
            api,
            request,
            exc.status_code,
            {
                "code": codes.get(exc.status_code, "error"),
                "message": str(exc),
            },
        )

    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return _body(
            api,
            request,
            413,
            {
                "code": "body_too_large",
                "message": str(_("The request is too large.")),
            },
        )

    # ninja's stub types the handler's exception oddly (`E | type[E]`); the handlers are right as typed here
    for exc_class, handler in (
        (DomainError, domain_error),
        (ValidationError, validation_error),
        (Http404, not_found),
        (AuthenticationError, authentication_error),
        (HttpError, http_error),
        (RequestDataTooBig, too_big),
    ):
        api.add_exception_handler(exc_class, cast(Any, handler))


# --- authentication -----------------------------------------------------------------------------------------


def _remember(request: HttpRequest, user: Any, method: str) -> Any:
    request._linli_actor = actor_for(user)  # type: ignore[attr-defined]  # the same cache pages use
    request.linli_auth_method = method  # type: ignore[attr-defined]
    return user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer lnl_...`; only the SHA-256 of the key is stored (linli.org.models.ApiToken)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from linli.org.services import api_token_authenticate

        user = api_token_authenticate(token.strip())
        if user is None:
            # a client that sent a token meant to use it: never fall back to a session cookie
            raise Unauthenticated(_("This API token is not valid or has been revoked."))
        return _remember(request, user, "token")


CSRF_MESSAGE = _("The security token of this page is missing or has expired. Reload the page and try again.")


class SessionAuth(APIKeyCookie):
    """The page session. CSRF is checked only for a signed-in user (anonymous requests get a clean 401)."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            return None
        exempt = getattr(request, "_ninja_csrf_exempt", False)
        if self.csrf and not exempt and check_csrf(request) is not None:
            raise Forbidden(CSRF_MESSAGE, code="csrf_failed")
        return _remember(request, user, "session")


token_auth = TokenAuth()
session_auth = SessionAuth()
# The default for every operation; pass `auth=SESSION_ONLY` where a token must not be enough (minting tokens).
DEFAULT_AUTH = [token_auth, session_auth]
SESSION_ONLY = [session_auth]


def actor(request: HttpRequest) -> Actor:
    """The acting user with their grants, loaded once per request by the auth class that let them in."""
    found = getattr(request, "_linli_actor", None)
    if found is None:
        user = getattr(request, "auth", None) or getattr(request, "user", None)
        found = actor_for(user) if user is not None else ANONYMOUS
        request._linli_actor = found  # type: ignore[attr-defined]
    return found


# --- paging -------------------------------------------------------------------------------------------------

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# Database ids are signed 64-bit; anything larger can only be a typo or a probe, refused as input (400).
MAX_ID = 2**63 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _reject_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            # PostgreSQL cannot store or even compare text holding NUL: refuse it as input, never a 500
            raise ValueError("text must not contain NUL (\\x00) characters")
    elif isinstance(value, dict):
        for item in value.values():
            _reject_nul(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _reject_nul(item)


class InputSchema(Schema):
    """Base of every input schema (bodies and query filters): refuses text with NUL characters (400)."""

    @field_validator("*", mode="after")
    @classmethod
    def reject_nul_characters(cls, value: Any) -> Any:
        _reject_nul(value)
        return value


class PageIn(InputSchema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="items per page (1..200)")
    offset: int = Field(0, ge=0, le=MAX_ID, description="items to skip")


T = TypeVar("T")


class Page(Schema, Generic[T]):
    count: int
    items: list[T]


M = TypeVar("M", bound=Model)


def paginate(qs: QuerySet[M], page: PageIn) -> dict[str, Any]:
    """{"count", "items"} for one page of `qs`. A page past the end is empty, not an error.

    The order is made total (primary key last) so that pages never repeat or skip a row.
    """
    ordering = list(qs.query.order_by or qs.model._meta.ordering or [])
    if not any(str(o).lstrip("-") in {"pk", "id"} for o in ordering):
        qs = qs.order_by(*ordering, "pk")
    count = qs.count()
    items: list[M] = list(qs[page.offset : page.offset + page.limit]) if page.offset < count else []
    return {"count": count, "items": items}


MAX_HEADER_KEY = 100


# The header every write operation declares; `idempotency_key()` reads and checks it.
IdempotencyKey = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        description="required on writes: the same key again returns the first result instead of acting twice",
    ),
]


def idempotency_key(request: HttpRequest, header: str | None) -> str:
    """The request's Idempotency-Key header, kept apart per user so one client can never replay another's request."""
    key = (header or "").strip()
    if not key:
        raise Invalid(_("Send an Idempotency-Key header with every write."), code="idempotency_key_required")
    if len(key) > MAX_HEADER_KEY or not key.isprintable():
        raise Invalid(_("The Idempotency-Key must be 1 to 100 printable characters."), code="idempotency_key_invalid")
    return f"api:{actor(request).user.pk}:{key}"
