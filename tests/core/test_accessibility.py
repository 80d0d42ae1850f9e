"""Accessibility basics on the shared shell and its pages: a skip link to the main content, decorative icons
hidden from screen readers, every link and button with an accessible name, the active menu item marked."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.registry.factories import make_veteran

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: _Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node] = []
        self.text = ""

    def hidden(self) -> bool:
        return self.attrs.get("aria-hidden") == "true"

    def accessible_text(self) -> str:
        """Text a screen reader announces for the element's content: text, image alt, named children."""
        if self.hidden():
            return ""
        parts = [self.text, self.attrs.get("alt") or "" if self.tag == "img" else ""]
        for child in self.children:
            parts.append(child.attrs.get("aria-label") or "" if not child.hidden() else "")
            parts.append(child.accessible_text())
        return "".join(parts).strip()

    def name(self) -> str:
        return (self.attrs.get("aria-label") or self.attrs.get("aria-labelledby") or self.attrs.get("title")
                or self.accessible_text()).strip()


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {}, None)
        self.current = self.root
        self.nodes: list[_Node] = []

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        self.nodes.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        node = _Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        self.nodes.append(node)

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text += data


def parse(html: str) -> _Tree:
    tree = _Tree()
    tree.feed(html)
    return tree


def problems(html: str) -> list[str]:
    tree = parse(html)
    found = []
    skip = [n for n in tree.nodes if n.tag == "a" and n.attrs.get("href") == "#content"]
    if not skip or skip[0] is not tree.nodes[[n.tag for n in tree.nodes].index("a")]:
        found.append("no skip link to #content as the first link")
    if not any(n.attrs.get("id") == "content" for n in tree.nodes):
        found.append("no element with id=content for the skip link")
    for node in tree.nodes:
        classes = (node.attrs.get("class") or "").split()
        if node.tag == "i" and "bi" in classes and not node.hidden():
            found.append(f"icon without aria-hidden: {node.attrs.get('class')}")
        if node.tag in {"a", "button"} and not node.hidden() and not node.name():
            found.append(f"{node.tag} without an accessible name: {node.attrs}")
        if node.tag == "progress" and not (node.attrs.get("aria-label") or node.attrs.get("aria-labelledby")):
            found.append("progress bar without a name")
    return found


# Pages on the shared shell whose templates are not the register lists (those have their own checks).
SIGNED_IN_PAGES = [
    ("core:home", "street_a"),
    ("core:profile", "street_a"),
    ("password_change", "street_a"),
    ("core:notification_list", "street_a"),
    ("jobs:job_list", "street_a"),
    ("core:orgunit_list", "admin"),
    ("core:role_list", "admin"),
    ("care:calendar", "street_a"),
    ("care:rule_list", "bureau"),
    ("care:campaign_list", "bureau"),
    ("registry:import_upload", "street_a"),
    ("core:orgunit_create", "admin"),
    ("core:otp_setup", "street_a"),
    ("liaison:pairing_list", "bureau"),
    ("liaison:summary", "street_a"),
    ("liaison:pairing_create", "bureau"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "who"), SIGNED_IN_PAGES)
def test_signed_in_pages_meet_the_basics(client, users, route, who):
    login(client, users[who])
    response = client.get(reverse(route))
    assert response.status_code == 200
    assert problems(response.content.decode()) == []


@pytest.mark.django_db
def test_person_page_meets_the_basics(client, users, tree):
    veteran = make_veteran(tree["village_a1"])
    login(client, users["street_a"])
    response = client.get(reverse("registry:veteran_detail", args=[veteran.pk]))
    assert response.status_code == 200
    assert problems(response.content.decode()) == []


@pytest.mark.django_db
def test_detail_pages_meet_the_basics(client, users, tree):
    login(client, users["admin"])
    for url in (reverse("core:orgunit_detail", args=[tree["village_a1"].pk]),
                reverse("core:user_detail", args=[users["village_a1"].pk])):
        response = client.get(url)
        assert response.status_code == 200
        assert problems(response.content.decode()) == [], url


@pytest.mark.django_db
def test_login_page_meets_the_basics(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert problems(response.content.decode()) == []
    assert "跳到主要内容" in response.content.decode()


@pytest.mark.django_db
def test_error_pages_meet_the_basics(client, users):
    anonymous = client.get("/no-such-page/")
    assert anonymous.status_code == 404
    assert problems(anonymous.content.decode()) == []
    login(client, users["street_a"])
    signed_in = client.get("/no-such-page/")
    assert signed_in.status_code == 404
    assert problems(signed_in.content.decode()) == []


@pytest.mark.django_db
def test_active_menu_item_is_marked_current(client, users):
    login(client, users["street_a"])
    html = client.get(reverse("core:home")).content.decode()
    menu = [n for n in parse(html).nodes if n.tag == "a" and "data-nav" in n.attrs]
    assert len(menu) > 1
    assert [n.attrs["data-nav"] for n in menu if n.attrs.get("aria-current") == "page"] == ["home"]
    assert [n.attrs["data-nav"] for n in menu if "active" in n.attrs["class"].split()] == ["home"]
    html = client.get(reverse("jobs:job_list")).content.decode()
    current = [n.attrs["data-nav"] for n in parse(html).nodes if n.attrs.get("aria-current") == "page"]
    assert current == ["downloads"]


def test_the_checker_finds_what_it_looks_for():
    page = ('<a href="#content">skip</a><main id="content"><i class="bi bi-x"></i>'
            '<a href="/x"><i class="bi bi-x" aria-hidden="true"></i></a><button></button>'
            '<a href="/y" aria-label="名"><i class="bi bi-y" aria-hidden="true"></i></a><progress></progress></main>')
    found = problems(page)
    assert found[0] == "icon without aria-hidden: bi bi-x"
    assert any(p.startswith("a without an accessible name") for p in found)
    assert any(p.startswith("button without an accessible name") for p in found)
    assert "progress bar without a name" in found
    assert len(found) == 4
