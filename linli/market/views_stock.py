"""Catalogue and stock pages for the people who keep the shelf: products and the low-stock alert, the product form,
one-choice groups, an item's movements with receipts and adjustments, stocktakes (count sheet, variance report,
export) and the market's settings.

Who (linli/org/access.py): market.manage (staff) edits products, groups and settings; stock.view (staff, the grid
chiefs and workers of the community, the auditor) reads; stock.manage (staff) books receipts and adjustments;
stock.count (staff and grid roles) counts. Read-only users get the same pages without the write forms; a write they
may not do is refused (403/404) before any form is read. Thin views: parse, one service or selector call, render.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.common.errors import DomainError, Forbidden, Invalid
from linli.common.views import attempt, paginate, query_string_without_page
from linli.ledger.errors import IdempotencyKeyReused
from linli.market import export_stock, selectors, services
from linli.market.forms_stock import (
    AdjustForm,
    ChoiceGroupForm,
    CountForm,
    ProductFilterForm,
    ProductForm,
    ReceiveForm,
    SettingsForm,
    StocktakeStartForm,
)
from linli.market.models import MarketSettings, Product, ProductPhoto, Stocktake, StocktakeLine, StocktakeStatus
from linli.org import pages
from linli.org.access import Actor, can, require, works_in
from linli.org.context_processors import get_actor
from linli.org.models import Community


def _in(community: Community) -> str:
    return f"?community={community.pk}"


def _require_works(actor: Actor, action: str, community: Community) -> None:
    """Community-level shelf actions are open to grid roles of the community too (access.works_in)."""
    if not works_in(actor, action, community):
        raise Forbidden()


def _receipt_url(redemption_id: int) -> str | None:
    """The counter's receipt page, once that part of the market exists."""
    try:
        return reverse("market:receipt", args=[redemption_id])
    except NoReverseMatch:
        return None


# --- products -------------------------------------------------------------------------------------------------------


@require_GET
@login_required
def products(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    form = ProductFilterForm(request.GET)
    q, kind, low = "", "", False
    if form.is_valid():
        q, kind, low = form.cleaned_data["q"].strip(), form.cleaned_data["kind"], form.cleaned_data["low"]
    qs = selectors.products(actor, community, q=q)
    if kind:
        qs = qs.filter(kind=kind)
    if low:
        qs = qs.filter(tracks_stock=True, stock__lte=F("low_stock_at"))
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(export_stock.products_xlsx(qs), content_type=export_stock.XLSX)
        response["Content-Disposition"] = f'attachment; filename="{export_stock.products_filename(community)}"'
        return response
    rows = [(p, export_stock.stock_value(p)) for p in qs]
    params = request.GET.copy()
    params["community"], params["format"] = str(community.pk), "xlsx"
    low_items = list(selectors.low_stock(actor, community))
    return render(
        request,
        "market/s_products.html",
        {
            **pages.picker(actor, community),
            "form": form,
            "rows": rows,
            "total_value": sum(v or 0 for _p, v in rows),
            "low_items": low_items,
            "export_query": params.urlencode(),
            "may_manage": can(actor, "market.manage", community),
            "may_count": works_in(actor, "stock.count", community),
        },
    )


def _save_product(
    request: HttpRequest, form: ProductForm, actor: Actor, community: Community, product: Product | None
) -> Product | None:
    """The item and its photo together or not at all; a refusal becomes an inline error. A new item is created under
    the form's key, so the same form sent twice adds it once (and its photo once)."""
    try:
        with transaction.atomic():
            if product is None:
                created = services.product_create_once(
                    actor=actor,
                    community=community,
                    data=form.product_data(),
                    stock=form.cleaned_data["stock"],
                    idempotency_key=pages.form_key(request, form.cleaned_data["request_key"]),
                )
                saved, fresh = created.product, not created.replayed
            else:
                saved, fresh = services.product_update(actor=actor, product=product, data=form.product_data()), True
            if fresh and form.cleaned_data.get("photo"):
                services.product_photo_set(actor=actor, product=saved, upload=form.cleaned_data["photo"])
    except DomainError as exc:
        message = str(exc.message)
        if exc.code == IdempotencyKeyReused.code:  # sent back after it succeeded, with something changed
            message = _("This form has already added an item. To add another, open “New item” again.")
        form.add_error(exc.field if exc.field in form.fields else None, message)
        return None
    return saved


def _product_page(request: HttpRequest, actor: Actor, community: Community, product: Product | None) -> HttpResponse:
    new = product is None
    if request.method == "POST":
        form = ProductForm(request.POST, request.FILES, community=community, new=new)
        if form.is_valid():
            saved = _save_product(request, form, actor, community, product)
            if saved is not None:
                text = _("“%(name)s” added to the shelf.") if new else _("“%(name)s” saved.")
                messages.success(request, text % {"name": saved.name})
                return redirect(reverse("market:products") + _in(community))
    else:
        initial = ProductForm.initial_for(product) if product is not None else None
        form = ProductForm(initial=initial, community=community, new=new)
    return render(
        request,
        "market/s_product_form.html",
        {
            "community": community,
            "form": form,
            "product": product,
            "categories": selectors.categories(community),
            "has_photo": product is not None and ProductPhoto.objects.filter(product=product).exists(),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def product_new(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "market.manage", community)
    return _product_page(request, actor, community, None)


@require_http_methods(["GET", "POST"])
@login_required
def product_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    product = selectors.product_get(actor, pk, action="stock.view")
    require(actor, "market.manage", product.community)
    return _product_page(request, actor, product.community, product)


# --- one-choice groups ----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def choice_groups(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    if not (works_in(actor, "stock.view", community) or can(actor, "market.manage", community)):
        require(actor, "market.manage", community)
    may_manage = can(actor, "market.manage", community)
    form = ChoiceGroupForm()
    if request.method == "POST":
        require(actor, "market.manage", community)
        form = ChoiceGroupForm(request.POST)
        if form.is_valid():
            name = form.cleaned_data["name"]
            group = attempt(form, lambda: services.choice_group_create(actor=actor, community=community, name=name))
            if group is not None:
                messages.success(request, _("Group “%(name)s” created.") % {"name": group.name})
                return redirect(reverse("market:choice_groups") + _in(community))
    groups = selectors.choice_groups(community).prefetch_related(
        Prefetch("products", queryset=Product.objects.order_by("position", "name"))
    )
    return render(
        request,
        "market/s_choice_groups.html",
        {**pages.picker(actor, community), "groups": groups, "form": form, "may_manage": may_manage},
        status=400 if form.errors else 200,
    )


# --- one item's stock -----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def product_stock(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    product = selectors.product_get(actor, pk, action="stock.view")
    may_manage = can(actor, "stock.manage", product.community)
    receive, adjust = ReceiveForm(prefix="receive"), AdjustForm(prefix="adjust")
    if request.method == "POST":
        require(actor, "stock.manage", product.community)
        op = request.POST.get("op")
        if op == "receive":
            receive = ReceiveForm(request.POST, prefix="receive")
            if receive.is_valid():
                d = receive.cleaned_data
                done = attempt(
                    receive,
                    lambda: services.stock_receive(
                        actor=actor, product=product, quantity=d["quantity"], reason=d["reason"]
                    ),
                )
                if done is not None:
                    messages.success(
                        request,
                        _("%(n)d received; %(left)d in stock now.") % {"n": d["quantity"], "left": done.stock_after},
                    )
                    return redirect("market:product_stock", pk=product.pk)
        elif op == "adjust":
            adjust = AdjustForm(request.POST, prefix="adjust")
            if adjust.is_valid():
                d = adjust.cleaned_data
                done = attempt(
                    adjust,
                    lambda: services.stock_adjust(actor=actor, product=product, change=d["change"], reason=d["reason"]),
                )
                if done is not None:
                    messages.success(request, _("Stock corrected; %(left)d in stock now.") % {"left": done.stock_after})
                    return redirect("market:product_stock", pk=product.pk)
        else:
            raise Invalid(_("Unknown action."), code="op_invalid")
    page = paginate(request, selectors.movements(actor, product))
    rows = [(m, _receipt_url(m.redemption_id) if m.redemption_id else None) for m in page.object_list]
    failed = bool(receive.errors or adjust.errors)
    return render(
        request,
        "market/s_product_stock.html",
        {
            "community": product.community,
            "product": product,
            "page": page,
            "rows": rows,
            "qs": query_string_without_page(request),
            "receive": receive,
            "adjust": adjust,
            "may_manage": may_manage and product.tracks_stock,
            "may_edit": can(actor, "market.manage", product.community),
        },
        status=400 if failed else 200,
    )


# --- stocktakes -----------------------------------------------------------------------------------------------------


def _summary(take: Stocktake) -> dict[str, Any]:
    lines = list(take.lines.all())
    return {
        "take": take,
        "lines": len(lines),
        "counted": sum(1 for x in lines if x.counted is not None),
        "totals": export_stock.variance_totals(lines) if take.status == StocktakeStatus.CLOSED else None,
    }


@require_http_methods(["GET", "POST"])
@login_required
def stocktakes(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    qs = selectors.stocktakes(actor, community)  # stock.view, or refused
    may_count = works_in(actor, "stock.count", community)
    form = StocktakeStartForm()
    if request.method == "POST":
        _require_works(actor, "stock.count", community)
        form = StocktakeStartForm(request.POST)
        if form.is_valid():
            note = form.cleaned_data["note"]
            take = attempt(form, lambda: services.stocktake_start(actor=actor, community=community, note=note))
            if take is not None:
                messages.success(request, _("Count started. Write down what is on the shelf."))
                return redirect("market:stocktake", pk=take.pk)
    page = paginate(request, qs.prefetch_related("lines"), per_page=30)
    return render(
        request,
        "market/s_stocktakes.html",
        {
            **pages.picker(actor, community),
            "page": page,
            "rows": [_summary(t) for t in page.object_list],
            "qs": query_string_without_page(request),
            "open": selectors.open_stocktake(community),
            "form": form,
            "may_count": may_count,
        },
        status=400 if form.errors else 200,
    )


def _lines(take: Stocktake) -> list[StocktakeLine]:
    return list(take.lines.select_related("product").order_by("product__position", "product__name", "id"))


@require_http_methods(["GET", "POST"])
@login_required
def stocktake(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    take = selectors.stocktake_get(actor, pk)
    may_count = works_in(actor, "stock.count", take.community) and take.status == StocktakeStatus.OPEN
    lines = _lines(take)
    form = CountForm(lines=lines)
    error: str | None = None  # a refusal of cancel or close (the count was closed meanwhile)
    if request.method == "POST":
        _require_works(actor, "stock.count", take.community)
        op = request.POST.get("op")
        if op in {"cancel", "close_confirmed"}:
            try:
                if op == "cancel":
                    services.stocktake_cancel(actor=actor, stocktake=take)
                    messages.success(request, _("The count was cancelled; nothing was booked."))
                else:
                    services.stocktake_close(actor=actor, stocktake=take)
                    messages.success(request, _("The count is closed and its differences are booked."))
                return redirect("market:stocktake", pk=take.pk)
            except DomainError as exc:
                error = str(exc.message)
        elif op in {"save", "close"}:
            form = CountForm(request.POST, lines=lines)
            if form.is_valid():
                counts = form.counts()
                saved = attempt(form, lambda: services.stocktake_count(actor=actor, stocktake=take, counts=counts))
                if saved is not None and op == "close":
                    return _confirm_close(request, take)
                if saved is not None:
                    messages.success(request, _("Counts saved. You can go on counting later."))
                    return redirect("market:stocktake", pk=take.pk)
        else:
            raise Invalid(_("Unknown action."), code="op_invalid")
        take.refresh_from_db()
        may_count = take.status == StocktakeStatus.OPEN
        lines = _lines(take)
    report = None
    if take.status == StocktakeStatus.CLOSED:
        report = {
            "rows": [(x, x.variance * x.price if x.variance else None) for x in export_stock.variance_rows(lines)],
            "totals": export_stock.variance_totals(lines),
        }
    return render(
        request,
        "market/s_stocktake.html",
        {
            "community": take.community,
            "take": take,
            "rows": [(line, form[CountForm.key(line.product_id)]) for line in lines] if may_count else [],
            "lines": lines,
            "form": form,
            "report": report,
            "may_count": may_count,
            "error": error,
        },
        status=409 if error else 400 if form.errors else 200,
    )


def _confirm_close(request: HttpRequest, take: Stocktake) -> HttpResponse:
    """Before booking: what the differences against the book stock now would be, and what stays uncounted."""
    lines = _lines(take)
    counted = [x for x in lines if x.counted is not None]
    preview = [(x, (x.counted or 0) - x.product.stock) for x in counted]
    return render(
        request,
        "market/s_stocktake_confirm.html",
        {
            "community": take.community,
            "take": take,
            "off": [(x, d) for x, d in preview if d != 0],
            "counted": len(counted),
            "uncounted": [x for x in lines if x.counted is None],
            "points": sum(d * x.price for x, d in preview),
        },
    )


@require_GET
@login_required
def stocktake_export(request: HttpRequest, pk: int) -> HttpResponse:
    actor = get_actor(request)
    take = selectors.stocktake_get(actor, pk)
    response = HttpResponse(export_stock.stocktake_xlsx(take, _lines(take)), content_type=export_stock.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{export_stock.stocktake_filename(take)}"'
    return response


# --- settings -------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def market_settings(request: HttpRequest) -> HttpResponse:
    actor = get_actor(request)
    community = pages.community_of(request, actor)
    require(actor, "market.manage", community)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            saved = attempt(
                form,
                lambda: services.settings_update(
                    actor=actor,
                    community=community,
                    reservation_days=d["reservation_days"],
                    voucher_days=d["voucher_days"],
                    counter_note=d["counter_note"],
                ),
            )
            if saved is not None:
                messages.success(request, _("Market settings saved."))
                return redirect(reverse("market:settings") + _in(community))
    else:
        # shown without creating the row: the defaults are what an unsaved MarketSettings holds
        current = MarketSettings.objects.filter(community=community).first() or MarketSettings(community=community)
        form = SettingsForm(
            initial={
                "reservation_days": current.reservation_days,
                "voucher_days": current.voucher_days,
                "counter_note": current.counter_note,
            }
        )
    return render(
        request,
        "market/s_settings.html",
        {**pages.picker(actor, community), "form": form},
        status=400 if form.errors else 200,
    )
