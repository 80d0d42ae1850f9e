"""The view kit: one form page (form → service → message → redirect) and the 404 look-ups every app uses.

Views only call services and selectors (docs/architecture.md); these classes keep that shape in one place:
- ``ServiceFormView``: GET shows the form; POST validates it and calls ``perform`` (one service call).
  A ``ValidationError`` the service raises lands on the form (on its field when the form has it, else on top;
  a stale write also refreshes the form: ``apps.core.forms.apply_errors``); success shows a message and
  redirects. With ``versioned``, the form carries the edited record's version (``apps.core.concurrency``).
- ``selector_or_404``: a selector's "does not exist" (missing, or outside the user's area) becomes a 404.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.translation import gettext_lazy
from django.views import View

from .. import concurrency
from ..forms import apply_errors
from ..scoping import RoleRequiredMixin

T = TypeVar("T")


def selector_or_404(selector: Callable[..., T], **kwargs: Any) -> T:
    """``selector(**kwargs)``, with a record that does not exist or is out of the user's scope as a 404 (the
    two are told apart nowhere: out of scope is the same as missing)."""
    try:
        return selector(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


class ServiceFormView(RoleRequiredMixin, View):
    """A page with one form whose valid data goes to one service.

    Subclasses set ``permission_required`` and ``form_class`` and write ``perform(data)``; they may load what
    the page is about in ``load`` (in the user's scope: 404 otherwise), give the form arguments or initial
    values, and choose where success leads (``success_url``, default the result's own page).
    """

    form_class: type | None = None
    template_name = "components/form_page.html"
    title: Any = ""
    success_message: Any = gettext_lazy("Saved.")
    cancel_url: str = "/"
    form_id = "main-form"
    card_class = ""
    multipart = False
    versioned = False  # the form edits ``edited()`` and carries its version (apps.core.concurrency)
    version_fields: Sequence[str] | None = None  # default: the form's fields that are the model's

    def load(self) -> None:
        """Find what the page is about (from ``self.kwargs``), in the user's scope."""

    def edited(self) -> models.Model | None:
        """The record the form edits (its version is stamped and checked when ``versioned``)."""
        return None

    def get_form_kwargs(self) -> dict:
        return {}

    def get_initial(self) -> dict:
        return {}

    def make_form(self, data=None, files=None):
        kwargs = self.get_form_kwargs()
        if data is None:
            return self.form_class(initial=self.get_initial(), **kwargs)
        return self.form_class(data, files, **kwargs)

    def perform(self, data: dict) -> Any:
        """Call the service with the form's cleaned data; return what ``success_url`` redirects to."""
        raise NotImplementedError

    def form_error(self, form, exc: ValidationError) -> None:
        apply_errors(form, exc)

    def success_url(self, result: Any) -> str:
        return resolve_url(result)

    def get_title(self) -> Any:
        return self.title

    def get_cancel_url(self) -> str:
        return resolve_url(self.cancel_url)

    def get_context_data(self, form) -> dict:
        return {"form": form, "title": self.get_title(), "cancel_url": self.get_cancel_url(), "form_id": self.form_id,
                "multipart": self.multipart, "card_class": self.card_class}

    def render_form(self, form) -> HttpResponse:
        return render(self.request, self.template_name, self.get_context_data(form))

    def get(self, request, *args, **kwargs) -> HttpResponse:
        self.load()
        form = self.make_form()
        if self.versioned:
            concurrency.stamp(form, self.edited(), self.version_fields)
        return self.render_form(form)

    def post(self, request, *args, **kwargs) -> HttpResponse:
        self.load()
        form = self.make_form(request.POST, request.FILES)
        if self.versioned:
            concurrency.require_version(form, self.edited())
        self.form = form  # for a ``perform`` that needs the bound form (a ModelForm's instance, its m2m)
        if form.is_valid():
            try:
                result = self.perform(dict(form.cleaned_data))
            except ValidationError as exc:
                self.form_error(form, exc)
            else:
                if self.success_message:
                    messages.success(request, self.success_message)
                return redirect(self.success_url(result))
        return self.render_form(form)
