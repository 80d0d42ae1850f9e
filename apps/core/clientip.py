"""The client's address, for lockout and the logs.

Behind TRUSTED_PROXY_COUNT reverse proxies, each of which appends the address it received the request
from to X-Forwarded-For (nginx ``$proxy_add_x_forwarded_for``), the client is the N-th entry from the
right; entries further left were written by the client and are not trusted. With no trusted proxy the
header is ignored, so a forged header cannot dodge the IP lockout.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        chain = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(chain) >= hops and (address := _valid(chain[-hops])):
            return address
    return _valid(request.META.get("REMOTE_ADDR", "")) or None
