"""The register page: one search box (name, pinyin, initials, ID, phone), filters, scope, keyset paging."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.registry.models import Code
from tests.conftest import login
from tests.registry.factories import id_number, make_veteran


@pytest.fixture
def people(tree):
    return {
        "zhangwei": make_veteran(tree["village_a1"], name="张伟", phone="13900000001"),
        "zhangwen": make_veteran(tree["village_a2"], name="张文"),
        "wangfang": make_veteran(tree["village_a1"], name="王芳", id_number=id_number("19750512", sequence=22)),
        "other_street": make_veteran(tree["village_b1"], name="张卫"),
    }


def names(client, **params):
    # A full ID number is moved out of the URL by a redirect to a session token (see test_access_log.py).
    response = client.get(reverse("registry:veteran_list"), params, follow=True)
    assert response.status_code == 200
    return {v.name for v in response.context["page"].rows}


def test_search_by_name_pinyin_initials_id_and_phone(client, users, people):
    login(client, users["street_a"])
    assert names(client, q="张") == {"张伟", "张文"}  # 张卫 is in street B
    assert names(client, q="zhangwei") == {"张伟"}
    assert names(client, q="ZW") == {"张伟", "张文"}
    assert names(client, q="zhangw") == {"张伟", "张文"}
    assert names(client, q=people["wangfang"].id_number) == {"王芳"}
    assert names(client, q=people["wangfang"].id_number.lower().replace("x", "x")) == {"王芳"}
    assert names(client, q="13900000001") == {"张伟"}
    assert names(client, q="zzz") == set()


def test_a_village_sees_only_its_own_people(client, users, people):
    login(client, users["village_a1"])
    assert names(client) == {"张伟", "王芳"}
    login(client, users["village_a2"])
    assert names(client) == {"张文"}
    assert client.get(reverse("registry:veteran_detail", args=[people["zhangwei"].pk])).status_code == 404


def test_filters_by_unit_category_and_age(client, users, tree, people):
    login(client, users["bureau"])
    assert names(client, unit=tree["street_a"].pk) == {"张伟", "张文", "王芳"}
    cadre = Code.objects.get(kind="category", name="军队转业干部")
    make_veteran(tree["village_a1"], name="赵军", primary_category=cadre)
    assert names(client, category=cadre.pk) == {"赵军"}
    old = make_veteran(tree["village_a1"], name="钱老", id_number=id_number("19300101"))
    assert names(client, age="80-") == {old.name}


def test_keyset_paging_walks_every_row_once(client, users, tree):
    for i in range(7):
        make_veteran(tree["village_a1"], name=f"测试{i}")
    login(client, users["village_a1"])
    seen, params = [], {"ordering": "name"}
    from apps.registry.views.records import VeteranListView
    VeteranListView.page_size = 3
    try:
        while True:
            response = client.get(reverse("registry:veteran_list"), params)
            page = response.context["page"]
            seen += [v.name for v in page.rows]
            if not page.next_cursor:
                break
            params = {"ordering": "name", "after": page.next_cursor}
        back = client.get(reverse("registry:veteran_list"), {"ordering": "name", "before": page.prev_cursor})
        assert [v.name for v in back.context["page"].rows] == seen[3:6]
    finally:
        VeteranListView.page_size = 50
    assert seen == sorted(seen, key=lambda n: (n,)) and len(seen) == len(set(seen)) == 7


def test_query_count_does_not_grow_with_rows(client, users, tree):
    login(client, users["village_a1"])
    url = reverse("registry:veteran_list")

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    make_veteran(tree["village_a1"], name="一号")
    count()  # the first request after a code or unit changed reads them into memory (reference.snapshot)
    few = count()
    for i in range(15):
        make_veteran(tree["village_a1"], name=f"多{i}")
    assert count() == few


def test_filter_choices_follow_code_and_unit_changes(client, users, tree):
    """Codes and units are held in memory per process; a change shows on the next request."""
    login(client, users["bureau"])
    url = reverse("registry:veteran_list")
    client.get(url)
    Code.objects.create(kind="tag", code="ZZ9", name="新标签测试")
    tree["village_a1"].name = "改名社区"
    tree["village_a1"].save(update_fields=["name"])
    content = client.get(url).content.decode()
    assert "新标签测试" in content and "改名社区" in content
    Code.objects.filter(name="新标签测试").delete()
    assert "新标签测试" not in client.get(url).content.decode()


def test_a_search_is_counted_to_a_lower_cap_than_the_list(client, users, people, monkeypatch):
    """A common surname can match thousands in a street: the search says "more than N" past its own cap,
    the unsearched list counts on to its larger cap."""
    from apps.registry.views import records

    monkeypatch.setattr(records, "SEARCH_COUNT_CAP", 1)
    login(client, users["street_a"])
    searched = client.get(reverse("registry:veteran_list"), {"q": "张"}).context["page"]
    assert (searched.total, searched.total_capped) == (1, True)
    assert len(searched.rows) == 2  # the rows themselves are all there
    listed = client.get(reverse("registry:veteran_list")).context["page"]
    assert (listed.total, listed.total_capped) == (3, False)


@pytest.mark.parametrize(("cap", "total", "capped"), [(1000, 5, False), (2, 2, True)])
def test_a_name_search_pages_alike_whether_its_matches_are_few_or_many(client, users, tree, monkeypatch,
                                                                        cap, total, capped):
    """Up to the cap a name search reads its matches by id, past it by walking the page's order: the user gets
    the same rows in the same order, page by page, and nothing from outside the area or the other filters."""
    from apps.registry import filters
    from apps.registry.views import records

    monkeypatch.setattr(filters, "NARROW_MAX", cap)
    monkeypatch.setattr(records, "SEARCH_COUNT_CAP", cap)
    monkeypatch.setattr(records.VeteranListView, "page_size", 2)
    for name in ("张一", "张二", "张三", "张四"):
        make_veteran(tree["village_a1"], name=name)
    make_veteran(tree["village_a2"], name="张五")
    make_veteran(tree["village_b1"], name="张外")  # another street
    make_veteran(tree["village_a1"], name="李张")  # 张 not at the start
    login(client, users["street_a"])
    for params, expected in (({"q": "张", "ordering": "name"}, ["张二", "张三", "张四", "张五", "张一"]),
                             ({"q": "zh", "ordering": "-id"}, ["张五", "张四", "张三", "张二", "张一"]),
                             ({"q": "z", "unit": tree["village_a2"].pk}, ["张五"])):
        seen, current = [], dict(params)
        while True:
            page = client.get(reverse("registry:veteran_list"), current).context["page"]
            seen += [v.name for v in page.rows]
            if not page.next_cursor:
                break
            current = {**params, "after": page.next_cursor}
        assert seen == expected, params
    first = client.get(reverse("registry:veteran_list"), {"q": "张"}).context["page"]
    assert (first.total, first.total_capped) == (total, capped)
