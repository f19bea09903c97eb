"""After a staff-issued password reset, the user must choose their own password before anything else."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            if request.path.startswith("/api/"):
                # a session that must change its password may not use the API either (tokens are not sessions)
                if "HTTP_AUTHORIZATION" not in request.META:
                    return JsonResponse(
                        {"code": "password_change_required", "message": str(_("Please change your password first."))},
                        status=403,
                    )
                return self.get_response(request)
            allowed = {reverse("password_change"), reverse("logout"), reverse("set_language")}
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)
