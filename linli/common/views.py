"""Small helpers every app's page views share: the actor, paging, and turning a DomainError into a form error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

from linli.common.errors import DomainError

T = TypeVar("T")

PAGE_SIZE = 50


def paginate(request: HttpRequest, qs: QuerySet[Any], per_page: int = PAGE_SIZE) -> Page[Any]:
    """A page of `qs`; a bad or too-large ?page= gives the nearest valid page instead of an error."""
    paginator = Paginator(qs, per_page)
    return paginator.get_page(request.GET.get("page"))


def attempt(form: forms.Form, action: Callable[[], T]) -> T | None:
    """Run a service; a DomainError becomes an error on the form (on its field when it names one we show)."""
    try:
        return action()
    except DomainError as exc:
        field = exc.field if exc.field in form.fields else None
        form.add_error(field, str(exc.message))
        return None


def query_string_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
