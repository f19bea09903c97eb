"""The client's address, for login throttling and audit.

Behind a reverse proxy every request comes from the proxy, so throttling by REMOTE_ADDR would lock a phone number for
everyone. With LINLI_TRUSTED_PROXIES=N (the number of proxies in front of linli, usually 1 for nginx), the address is
taken from X-Forwarded-For, counting N entries from the right: entries further left were written by the client and
cannot be trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "LINLI_TRUSTED_PROXIES", 0))
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote
    return chain[-proxies]
