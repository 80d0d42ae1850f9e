"""The registry's own tabs of the person page (一人一档), registered like every other app's (``hooks.register``).

Each context function gets the request and the record (already found in the user's scope) and returns
what its template (``templates/registry/tabs/<key>.html``) reads.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from apps.core.lists import is_partial

from . import selectors
from .hooks import PersonTab
from .tables import AccessLogTable


def _nothing(request, veteran) -> dict:
    return {}


def _care(request, veteran) -> dict:
    return {"care": veteran.care.select_related("category", "benefit")}


def _family(request, veteran) -> dict:
    return {"family": veteran.family.select_related("relation", "health", "rank")}


def _cards(request, veteran) -> dict:
    return {"cards": veteran.cards.prefetch_related("lifecycle")}


def _files(request, veteran) -> dict:
    return {"attachments": veteran.attachments.select_related("uploaded_by")}


def _history(request, veteran) -> dict:
    from . import hooks

    return {"history": selectors.veteran_history(veteran=veteran)[:200],
            "set_changes": selectors.veteran_set_changes(veteran=veteran),
            "transfers": veteran.transfers.select_related("from_unit", "to_unit", "actor"),
            "activity": hooks.history_entries(veteran)}


def _access(request, veteran) -> dict:
    older = request.GET.get("before", "")
    access, access_next = selectors.veteran_access_log(user=request.user, veteran=veteran, before=older)
    # Where people were is for administrators only; "show older entries" asks for the next rows alone.
    show_ip = request.user.is_portal_admin  # where people were is for administrators only
    return {"access": access, "access_next": access_next, "show_ip": show_ip,
            "access_table": AccessLogTable(access, exclude=() if show_ip else ["ip_address"]),
            "access_older": bool(older and is_partial(request))}


VIEW = "registry.view_veteran"
# Other apps' tabs sit between the documents (60) and the history (900): care's visits 70, honours 80.
TABS = [
    PersonTab("basic", _("Basic"), "registry/tabs/basic.html", _nothing, VIEW, order=10),
    PersonTab("service", _("Service"), "registry/tabs/service.html", _nothing, VIEW, order=20),
    PersonTab("care", _("Priority care"), "registry/tabs/care.html", _care, VIEW, order=30),
    PersonTab("family", _("Family"), "registry/tabs/family.html", _family, VIEW, order=40),
    PersonTab("card", _("Preferential card"), "registry/tabs/card.html", _cards, VIEW, order=50),
    PersonTab("files", _("Documents"), "registry/tabs/files.html", _files, VIEW, order=60),
    PersonTab("history", _("History"), "registry/tabs/history.html", _history, VIEW, order=900),
    PersonTab("access", _("Viewed or exported by"), "registry/tabs/access.html", _access, VIEW, order=910),
]
