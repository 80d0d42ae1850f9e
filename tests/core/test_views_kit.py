"""The view kit: selector_or_404 and the service-form page (form → service → message → redirect)."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.urls import reverse

from apps.core.models import OrgUnit
from apps.core.views.kit import selector_or_404
from apps.registry.selectors import veteran_detail
from tests.conftest import login


@pytest.mark.django_db
def test_selector_or_404_turns_does_not_exist_into_404(users):
    with pytest.raises(Http404):
        selector_or_404(veteran_detail, user=users["admin"], pk=0)


@pytest.mark.django_db
def test_a_service_error_lands_on_the_form_and_nothing_is_saved(client, users, tree):
    login(client, users["admin"])
    url = reverse("core:orgunit_create")
    page = client.get(url)
    assert page.status_code == 200 and 'id="main-form"' in page.content.decode()
    taken = {"parent": tree["district"].pk, "code": tree["street_a"].code, "name": "重复"}
    response = client.post(url, taken)
    assert response.status_code == 200  # the form again, with the service's error on its field
    assert response.context["form"].errors["code"]
    assert not OrgUnit.objects.filter(name="重复").exists()


@pytest.mark.django_db
def test_success_shows_a_message_and_redirects_to_the_result(client, users, tree):
    login(client, users["admin"])
    response = client.post(reverse("core:orgunit_create"),
                           {"parent": tree["district"].pk, "code": "320111003000", "name": "丙街道"}, follow=True)
    unit = OrgUnit.objects.get(code="320111003000")
    assert response.redirect_chain[-1][0] == unit.get_absolute_url()
    assert [str(m) for m in response.context["messages"]]
