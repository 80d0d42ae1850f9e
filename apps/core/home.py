"""Home pages by role: apps above core register the page a user sees at ``/`` (``core:home``).

Core cannot import the apps that know a user's work (reports, care…), so they register a **home provider**
from their ``hooks.register()``: a predicate on the user and a view. ``core:home`` answers with the first
provider (lowest ``order``) whose predicate holds and whose view returns a response; a view may return
``None`` to pass (e.g. a page that is not installed yet). With no provider, core's own summary is the home page
(administrators without a station, enterprise partners, users without a role).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from .models import User


@dataclass(frozen=True)
class HomeProvider:
    key: str
    applies: Callable[[User], bool]
    view: Callable[[HttpRequest], HttpResponse | None]
    order: int = 100


_providers: dict[str, HomeProvider] = {}


def register_home(key: str, *, applies: Callable[[User], bool], view: Callable[[HttpRequest], HttpResponse | None],
                  order: int = 100) -> None:
    """Add (or replace, by ``key``) a home provider. ``view(request)`` renders the page for ``request.user``."""
    _providers[key] = HomeProvider(key=key, applies=applies, view=view, order=order)


def providers_for(user: User) -> list[HomeProvider]:
    """The providers whose predicate holds for the user, first one first."""
    return [p for p in sorted(_providers.values(), key=lambda p: (p.order, p.key)) if p.applies(user)]


def home_response(request: HttpRequest) -> HttpResponse | None:
    """The registered home page for the request's user, or ``None`` for core's summary."""
    for provider in providers_for(request.user):
        response = provider.view(request)
        if response is not None:
            return response
    return None
