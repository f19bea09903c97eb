"""Open311 GeoReport v2 under /open311/v2/, and the staff page that issues and revokes the clients' keys.

So that existing 311 apps and tools can file requests and follow them (https://wiki.open311.org/GeoReport_v2).
Choices the spec leaves open, decided here (docs/decisions/0012-open311.md says why):

- service_request_id is the order's number ("2026-0042"): what the resident and staff read on every page, unique in
  a jurisdiction, and it does not reveal how many orders the whole installation holds.
- jurisdiction_id is a community's code. It may be left out when only one community exists, or on POST, where the
  api_key already names the community; a key used for another community is refused (403).
- Every request is type "realtime": the POST answers with service_request_id at once, never a token. tokens/<t> still
  answers for the token every order carries.
- Language: English unless the client sends Accept-Language (existing clients expect English error texts).
- Only what the community publishes is readable: orders shown on the echo wall (staff may hide one). Nothing
  personal leaves: no reporter, contact name, phone or email; phone and ID numbers inside the texts are masked, a
  typed address loses its room number. media_url is always empty: linli's photos are private.
- POST is not idempotent (the spec has no key for it): a client that retries files twice, as with any 311 server.
"""

from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from linli.common.errors import DomainError, NotFound
from linli.common.views import attempt
from linli.orders import services
from linli.orders.models import Action, Assignment, Category, Channel, Open311Client, OrderEvent, Status, WorkOrder
from linli.org import pages
from linli.org.access import ANONYMOUS, require
from linli.org.context_processors import get_actor
from linli.org.domain import mask_address, mask_phone
from linli.org.models import Community

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-06-01T00:00:00+08:00"  # when this endpoint's behaviour last changed (discovery)
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000  # the spec's default volume: 90 days or 1000 requests, whichever is smaller
WINDOW = timedelta(days=90)
CLOSED = frozenset({Status.RESOLVED, Status.CLOSED, Status.MERGED, Status.CANCELLED})
# the element name of one item of each list, for XML (JSON has plain arrays)
ITEM = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "endpoints": "endpoint",
    "formats": "format",
}


class Open311Error(Exception):
    """A refusal in the spec's own error format: [{"code": 400, "description": "..."}]."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- serialisation --------------------------------------------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Public text: resident ID numbers hidden, phone numbers masked (138****1234)."""
    text = _ID_NUMBER.sub("******************", text or "")
    return _PHONE.sub(lambda m: mask_phone(m.group(0).replace("-", "")), text)


def w3(moment: datetime | None) -> str | None:
    """W3C date-time with the offset, e.g. 2026-05-01T09:30:00+08:00 (the spec requires a zone)."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def _xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _CONTROL.sub("", str(value))


def _xml_fill(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _xml_fill(element, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _xml_fill(element, ITEM[name], inner)
    elif value is not None:
        element.text = _xml_text(value)


def to_xml(root: str, payload: list[Any] | dict[str, Any]) -> bytes:
    """The spec's schemaless XML: <services><service>…, <service_requests><request>…, <errors><error>…"""
    element = ET.Element(root)
    if isinstance(payload, dict):
        for key, value in payload.items():
            _xml_fill(element, key, value)
    else:
        for item in payload:
            _xml_fill(element, ITEM[root], item)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def respond(fmt: str, root: str, payload: list[Any] | dict[str, Any], status: int = 200) -> HttpResponse:
    body = to_xml(root, payload) if fmt == "xml" else json.dumps(payload, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)


# --- the frame every endpoint shares ------------------------------------------------------------------------------
def _language(request: HttpRequest) -> str:
    if not request.META.get("HTTP_ACCEPT_LANGUAGE"):
        return "en"
    return translation.get_language_from_request(request, check_path=False)


def endpoint(*methods: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Format from the extension (json or xml, else 404), the language, and every refusal in the spec's format.
    CSRF-exempt: the API has no session to ride on; filing needs the client's api_key."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def inner(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            with translation.override(_language(request)):
                if fmt not in CONTENT_TYPES:
                    return error_response("xml", 404, _("Format not supported: use .xml or .json."))
                if request.method not in methods:
                    response = error_response(fmt, 405, _("Method not allowed."))
                    response["Allow"] = ", ".join(methods)
                    return response
                try:
                    return view(request, fmt, **kwargs)
                except Open311Error as exc:
                    return error_response(fmt, exc.status, exc.description)
                except DomainError as exc:
                    field = f"{exc.field}: " if exc.field else ""
                    return error_response(fmt, exc.status, f"{field}{exc.message}")

        return inner

    return wrap


def _param(request: HttpRequest, name: str) -> str:
    """A parameter from the form body or the query string (some clients put api_key in the URL); blank = absent."""
    value = request.POST.get(name) if request.method == "POST" else None
    if not value:
        value = request.GET.get(name)
    return (value or "").strip()


def jurisdiction(request: HttpRequest, client: Open311Client | None = None) -> Community:
    code = _param(request, "jurisdiction_id")
    if code:
        community = Community.objects.filter(code=code[:40]).first()
        if community is None:
            raise Open311Error(404, _("jurisdiction_id not found: %(id)s") % {"id": code[:40]})
        if client is not None and client.community_id != community.pk:
            raise Open311Error(403, _("This api_key is not valid for jurisdiction %(id)s.") % {"id": community.code})
        return community
    if client is not None:
        return client.community
    only = list(Community.objects.all()[:2])
    if len(only) != 1:
        raise Open311Error(400, _("jurisdiction_id was not provided."))
    return only[0]


# --- reads (public: only what the community publishes) ------------------------------------------------------------
def _services(community: Community) -> QuerySet[Category]:
    return Category.objects.filter(community=community, is_active=True).order_by("position", "name", "pk")


def _service(community: Community, code: str) -> Category:
    category = _services(community).filter(code=code[:40]).first()
    if category is None:
        raise Open311Error(404, _("service_code not found: %(code)s") % {"code": code[:40]})
    return category


NOTE_ACTIONS = (Action.NOTE, Action.HOLD, Action.CANCEL)


def published(community: Community) -> QuerySet[WorkOrder]:
    """The community's orders an anonymous reader may follow, with what the serialiser needs in two more queries."""
    leads = Assignment.objects.filter(active=True, is_lead=True).select_related("team", "unit")
    notes = OrderEvent.objects.filter(is_public=True, action__in=NOTE_ACTIONS).exclude(note="").order_by("-at", "-pk")
    return (
        WorkOrder.objects.filter(community=community, on_echo_wall=True)
        .select_related("category", "building", "merged_into", "community")
        .prefetch_related(
            Prefetch("assignments", queryset=leads, to_attr="leads"),
            Prefetch("events", queryset=notes, to_attr="public_notes"),
        )
    )


def _parse_moment(value: str, name: str, *, end: bool = False) -> datetime:
    moment = parse_datetime(value) if "T" in value or " " in value else None
    if moment is None:
        try:
            day: date | None = parse_date(value)
        except ValueError:
            day = None
        if day is None:
            raise Open311Error(400, _("%(name)s is not a w3 date-time, e.g. 2026-01-01T00:00:00Z.") % {"name": name})
        moment = datetime.combine(day, time.max if end else time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _window(request: HttpRequest) -> tuple[datetime, datetime]:
    try:
        start_raw, end_raw = _param(request, "start_date"), _param(request, "end_date")
        start = _parse_moment(start_raw, "start_date") if start_raw else None
        end = _parse_moment(end_raw, "end_date", end=True) if end_raw else None
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            assert end is not None
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
    except (ValueError, OverflowError):  # a date beyond the calendar, or 90 days before year 1
        raise Open311Error(400, _("start_date or end_date is not a valid date-time.")) from None
    if start > end:
        raise Open311Error(400, _("start_date is after end_date."))
    if end - start > WINDOW:
        raise Open311Error(400, _("start_date and end_date may not span more than 90 days."))
    return start, end


def _statuses(request: HttpRequest) -> set[str]:
    wanted = {s.strip().lower() for s in _param(request, "status").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise Open311Error(400, _("status must be open or closed."))
    return wanted


def search(request: HttpRequest, community: Community) -> list[WorkOrder]:
    qs = published(community)
    ids = [i.strip()[:20] for i in _param(request, "service_request_id").split(",") if i.strip()]
    if ids:  # "this overrides all other arguments"
        return list(qs.filter(number__in=ids[:MAX_RESULTS]).order_by("-received_at", "-pk"))
    codes = [c.strip()[:40] for c in _param(request, "service_code").split(",") if c.strip()]
    if codes:
        qs = qs.filter(category__code__in=codes)
    start, end = _window(request)
    qs = qs.filter(received_at__gte=start, received_at__lte=end)
    statuses = _statuses(request)
    if statuses == {"open"}:
        qs = qs.exclude(status__in=CLOSED)
    elif statuses == {"closed"}:
        qs = qs.filter(status__in=CLOSED)
    return list(qs.order_by("-received_at", "-pk")[:MAX_RESULTS])


# --- what a reader sees -------------------------------------------------------------------------------------------
def service_notice(category: Category, community: Community) -> str:
    if category.day_kind == "working":
        text = _("%(community)s answers within %(n)s working days.")
    else:
        text = _("%(community)s answers within %(n)s days.")
    return text % {"community": community.name, "n": category.deadline_days}


def service_json(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": category.keywords,
        "group": str(category.get_group_display()),
    }


def open311_status(order: WorkOrder) -> str:
    return "closed" if order.status in CLOSED else "open"


def status_notes(order: WorkOrder) -> str:
    if order.status == Status.MERGED and order.merged_into is not None:
        return _("Merged into request %(number)s.") % {"number": order.merged_into.number}
    if order.status in (Status.RESOLVED, Status.CLOSED) and order.answer:
        return scrub(order.answer)
    notes: Sequence[OrderEvent] = getattr(order, "public_notes", None) or []
    return scrub(notes[0].note) if notes else ""


def agency(order: WorkOrder) -> str:
    """The lead handler when it is a unit or a team; a person's name is not published, only their role."""
    leads: Sequence[Assignment] = getattr(order, "leads", None) or []
    if leads:
        lead = leads[0]
        if lead.unit is not None or lead.team is not None:
            return str(lead.unit or lead.team)
        return f"{order.community.name} · {lead.get_handler_display()}"
    return order.community.name


def place(order: WorkOrder) -> str:
    if order.address:
        return mask_address(order.address)
    return str(order.building) if order.building else ""


def updated(order: WorkOrder) -> datetime:
    """For a closed request the spec wants the time it was closed."""
    if order.status in CLOSED:
        return order.closed_at or order.resolved_at or order.updated_at
    return order.updated_at


def request_json(order: WorkOrder) -> dict[str, Any]:
    return {
        "service_request_id": order.number,
        "status": open311_status(order),
        "status_notes": status_notes(order) or None,
        "service_name": order.category.name,
        "service_code": order.category.code,
        "description": scrub(order.description),
        "agency_responsible": agency(order),
        "service_notice": service_notice(order.category, order.community),
        "requested_datetime": w3(order.received_at),
        "updated_datetime": w3(updated(order)),
        "expected_datetime": w3(order.due_at),
        "address": place(order) or None,
        "address_id": order.building_id,
        "zipcode": None,
        "lat": float(order.lat) if order.lat is not None else None,
        "long": float(order.long) if order.long is not None else None,
        "media_url": None,  # linli keeps photos private
    }


# --- the endpoints --------------------------------------------------------------------------------------------------
@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    root = request.build_absolute_uri(reverse("open311:discovery", args=["json"])).rsplit("/", 1)[0]
    return respond(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": _("Ask the community office for an api_key."),
            "key_service": _("Issued by community staff on the Open311 clients page."),
            "endpoints": [
                {
                    "specification": SPEC_URL,
                    "url": root,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    community = jurisdiction(request)
    return respond(fmt, "services", [service_json(c) for c in _services(community)])


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = _service(jurisdiction(request), code)
    return respond(fmt, "service_definition", {"service_code": category.code, "attributes": []})


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _file(request, fmt)
    community = jurisdiction(request)
    return respond(fmt, "service_requests", [request_json(o) for o in search(request, community)])


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    order = published(jurisdiction(request)).filter(number=request_id[:20]).first()
    if order is None:
        raise Open311Error(404, _("service_request_id not found: %(id)s") % {"id": request_id[:20]})
    return respond(fmt, "service_requests", [request_json(order)])


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    order = WorkOrder.objects.filter(community=jurisdiction(request), token=token[:32]).only("number", "token").first()
    if order is None:
        raise Open311Error(404, _("token not found: %(token)s") % {"token": token[:32]})
    return respond(fmt, "service_requests", [{"service_request_id": order.number, "token": order.token}])


@dataclass(frozen=True)
class Filing:
    """A POST requests body, checked: what order_create needs, and the internal note of what has no field."""

    data: services.OrderInput
    note: str


def _name(first: str, last: str) -> str:
    if any(ord(ch) > 127 for ch in first + last):  # Chinese names: family name first, no space
        return f"{last}{first}"
    return " ".join(part for part in (first, last) if part)


def parse_filing(request: HttpRequest, category: Category) -> Filing:
    lat, long = _param(request, "lat"), _param(request, "long")
    address = _param(request, "address_string")
    address_id_raw = _param(request, "address_id")
    building_id = None
    if address_id_raw:
        building_id = pages.positive_int(address_id_raw)
        if building_id is None:
            raise Open311Error(400, _("address_id must be the number of a building."))
    if not ((lat and long) or address or building_id):
        raise Open311Error(400, _("A location is required: lat and long, address_string, or address_id."))
    description = _param(request, "description") or category.name
    extra = [
        (_("Email"), _param(request, "email")),
        (_("Account"), _param(request, "account_id")),
        (_("Photo or video link"), _param(request, "media_url")),
    ]
    note = "\n".join(f"{label}: {value[:1000]}" for label, value in extra if value)
    data = services.OrderInput(
        category=category.code,
        description=description,
        building_id=building_id,
        address=address,
        lat=lat or None,
        long=long or None,
        contact_name=_name(_param(request, "first_name"), _param(request, "last_name")),
        contact_phone=_param(request, "phone"),
    )
    return Filing(data=data, note=note)


def _file(request: HttpRequest, fmt: str) -> HttpResponse:
    key = _param(request, "api_key")
    if not key:
        raise Open311Error(400, _("api_key was not provided."))
    client = services.open311_client_for(key)
    if client is None:
        raise Open311Error(403, _("Invalid api_key received: it is unknown or has been revoked."))
    community = jurisdiction(request, client)
    code = _param(request, "service_code")
    if not code:
        raise Open311Error(400, _("service_code was not provided."))
    category = _service(community, code)
    filing = parse_filing(request, category)
    filed = services.order_create(
        actor=ANONYMOUS,
        community=community,
        data=filing.data,
        channel=Channel.OPEN311,
        open311_client=client,
        intake_note=filing.note,
    )
    order = filed.order
    return respond(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": order.number,
                "service_notice": service_notice(category, community),
                "account_id": None,
            }
        ],
    )


# --- the key management page (staff) ------------------------------------------------------------------------------
class ClientForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name of the application"),
        max_length=100,
        help_text=gettext_lazy("Who uses the key, e.g. the street's 12345 bridge or a volunteer map app."),
    )


def clients_of(community: Community) -> QuerySet[Open311Client]:
    return (
        Open311Client.objects.filter(community=community)
        .select_related("issued_by")
        .order_by(F("revoked_at").desc(nulls_first=True), "-created_at", "-pk")  # live keys first
    )


@login_required
@never_cache  # the page that shows a new key must not be kept by any cache
@require_http_methods(["GET", "POST"])
def clients(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "order.catalogue", community)
    form = ClientForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        issued = attempt(
            form,
            lambda: services.open311_client_issue(actor=actor, community=community, name=form.cleaned_data["name"]),
        )
        if issued is not None:
            form = ClientForm()
    endpoint_url = request.build_absolute_uri(reverse("open311:services", args=["json"])).rsplit("/", 1)[0]
    return render(
        request,
        "orders/o311_clients.html",
        {
            **pages.picker(actor, community),
            "clients": clients_of(community),
            "form": form,
            "issued": issued,
            "endpoint": endpoint_url,
        },
    )


@login_required
@require_POST
def client_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    client = Open311Client.objects.select_related("community").filter(pk=pk).first()
    if client is None:
        raise NotFound()
    services.open311_client_revoke(actor=actor, client=client)
    messages.success(request, _("The key of %(name)s no longer works.") % {"name": client.name})
    return redirect(f"{reverse('orders:open311_clients')}?community={client.community_id}")
