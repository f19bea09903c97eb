"""The public seal-proof page: anyone (no login) types a passbook reference and sees the proof that the entry is in
its month's sealed book. No names and no account owners are ever shown here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.common.errors import DomainError
from linli.ledger import sealing
from linli.ledger.models import Seal


@require_GET
def proof(request: HttpRequest) -> HttpResponse:
    ref = request.GET.get("ref", "").strip()
    as_json = request.GET.get("format") == "json"
    context: dict[str, object] = {"ref": ref[:60]}
    status = 200
    # from the monthly notice's QR code: ?month=2026-10&community=<code> names the sealed book printed on it
    month, code = request.GET.get("month", "").strip()[:7], request.GET.get("community", "").strip()[:40]
    seal = Seal.objects.select_related("community").filter(community__code=code, month=month).first() if month else None
    if seal is not None:
        context.update({"seal": seal, "month": month, "community_code": code})
    if ref or as_json:
        try:
            result = sealing.transfer_proof(ref)
        except DomainError as error:
            if as_json:
                return JsonResponse(error.as_dict(), status=error.status)
            context["error"] = error
            status = error.status
        else:
            if as_json:
                return JsonResponse(result.as_dict(), json_dumps_params={"ensure_ascii": False})
            context["proof"] = result
            if seal is not None:
                # the entry is in THAT book only when it belongs to the same community, month and root
                context["in_seal"] = result.verified and result.month == seal.month and result.root == seal.merkle_root
    return render(request, "ledger/proof.html", context, status=status)
