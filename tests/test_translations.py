"""Chinese first: every user-facing string has a zh-hans translation, and the compiled catalogue is current."""

import re
from pathlib import Path

import polib
from django.urls import reverse

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_every_string_is_translated():
    po = polib.pofile(str(LOCALE / "django.po"))
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"


def test_compiled_catalogue_matches_source():
    po = {e.msgid: e.msgstr for e in polib.pofile(str(LOCALE / "django.po")) if not e.obsolete}
    mo = {e.msgid: e.msgstr for e in polib.mofile(str(LOCALE / "django.mo"))}
    assert po == mo, "django.mo is stale: run `make messages`"


def test_pages_are_chinese_whatever_the_browser_asks_until_english_is_chosen(client, db):
    """A station PC installed in English still gets the Chinese portal; the menu's choice (cookie) switches."""
    def lang(response):
        return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)

    login = reverse("login")
    assert lang(client.get(login, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")) == "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": login})
    assert lang(client.get(login, HTTP_ACCEPT_LANGUAGE="zh-CN")) == "en"
    client.cookies["django_language"] = "xx"  # not a language the portal has
    assert lang(client.get(login)) == "zh-hans"


def test_api_clients_get_the_language_they_ask_for(client, db):
    english = client.post(reverse("api-token"), {}, HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.post(reverse("api-token"), {})
    assert english.status_code == chinese.status_code == 400
    assert "This field is required." in english.content.decode()
    assert "该字段是必填项。" in chinese.content.decode()
