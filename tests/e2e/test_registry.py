"""A station user finds a person by pinyin initials, opens the record, reveals the ID (logged)."""

import re

import pytest
from playwright.sync_api import expect

from apps.core.models import AccessLog
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.registry.factories import make_veteran

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_station_user_searches_by_initials_and_opens_a_record(page, live_server, users, tree):
    zhang = make_veteran(tree["village_a1"], name="张卫国")
    make_veteran(tree["village_a1"], name="李强")
    make_veteran(tree["village_a2"], name="张伟")  # sibling village: never shown

    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.click("[data-nav=veterans]")
    rows = page.locator("#veteran-results tbody tr")
    assert rows.count() == 2

    page.fill("#id_q", "zwg")
    expect(rows).to_have_count(1)
    assert "张卫国" in rows.first.inner_text()
    assert "zwg" in page.url  # the search is in the address bar (htmx push)

    rows.first.locator("a").first.click()
    page.wait_for_url(f"**/veterans/{zhang.pk}/")
    assert page.locator("#veteran-name").inner_text().startswith("张卫国")
    assert page.locator("#id-number").inner_text() == zhang.id_number_masked

    page.click("#reveal-button")
    page.wait_for_selector("#id-full")
    assert page.locator("#id-full").inner_text() == zhang.id_number
    assert AccessLog.objects.filter(action="reveal", object_id=str(zhang.pk)).count() == 1

    # The "who viewed" tab lists this user's view and reveal.
    page.click("[data-tab=access]")
    expect(page.locator("#tab-body tbody tr")).to_have_count(2)
    expect(page.locator("[data-tab=access]")).to_have_class("nav-link active")


def test_a_search_by_full_id_number_never_puts_the_number_in_a_url(page, live_server, users, tree):
    """Issue 10, finding 13: the number is posted (htmx), the list is shown under a token; name searches stay GET.
    No request URL and no address-bar URL holds the number or a long run of its digits, typed digit by digit."""
    zhang = make_veteran(tree["village_a1"], name="张卫国")
    make_veteran(tree["village_a1"], name="李强")
    urls: list[str] = []
    posts: list[str] = []
    page.on("request", lambda request: (urls.append(request.url),
                                        posts.append(request.url) if request.method == "POST" else None))
    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.click("[data-nav=veterans]")
    rows = page.locator("#veteran-results tbody tr")
    expect(rows).to_have_count(2)

    page.locator("#id_q").press_sequentially(zhang.id_number, delay=20)
    expect(rows).to_have_count(1)
    assert "张卫国" in rows.first.inner_text()
    expect(page).to_have_url(re.compile(r"/veterans/\?.*idt="))
    assert any(url.endswith("/veterans/search/") for url in posts)
    for url in [*urls, page.url]:
        assert zhang.id_number[:13] not in url, url
    assert AccessLog.objects.filter(action="search", object_id=str(zhang.pk)).count() == 1

    # Reloading the address keeps the search (the session resolves the token); the number is not on the page.
    page.reload()
    expect(rows).to_have_count(1)
    assert zhang.id_number_masked in page.locator("#id-search-note").inner_text()
    assert zhang.id_number not in page.content()

    # A name search replaces it, as an ordinary GET.
    page.fill("#id_q", "lq")
    expect(rows.first).to_contain_text("李强")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=lq"))
    assert "idt=" not in page.url


def test_station_user_imports_a_sheet_with_one_bad_row(page, live_server, users, tree, tmp_path):
    """Upload a hand-kept sheet (title row, shuffled columns), see the bad row, download it marked, confirm."""
    from openpyxl import Workbook, load_workbook

    from apps.registry.models import Veteran
    from tests.registry.factories import id_number

    good = id_number("19781010")
    bad = id_number("19790202")
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")  # wrong check digit
    sheet = tmp_path / "高庙社区退役军人花名册.xlsx"
    book = Workbook()
    ws = book.active
    ws.append(["甲一社区退役军人信息登记表"])
    ws.append(["人员类别", "姓名", "公民身份号码", "联系电话"])
    ws.append(["退役士兵", "赵建国", good, "13912345678"])
    ws.append(["退役士兵", "钱卫东", bad, "13912345679"])
    book.save(sheet)

    log_in(page, live_server, "village_a1", PASSWORD)
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/veterans/")
    page.click("text=导入")
    page.set_input_files("#import-form input[type=file]", str(sheet))
    page.click("#import-check")
    problems = page.locator("#import-problems tbody tr")
    expect(problems).to_have_count(1)
    row_text = problems.first.inner_text()
    assert "4" in row_text and "公民身份号码" in row_text and "校验" in row_text  # row, column, reason

    with page.expect_download() as download_info:
        page.click("#import-error-workbook")
    marked = tmp_path / "marked.xlsx"
    download_info.value.save_as(marked)
    ws = load_workbook(marked).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert any("钱卫东" in [str(v) for v in row] for row in values)
    assert any(v and "校验" in str(v) for row in values for v in row)  # the reason column

    page.once("dialog", lambda dialog: dialog.accept())  # "write 1 new record?"
    page.click("#import-confirm")
    expect(page.locator("#import-result")).to_be_visible()
    assert Veteran.objects.filter(name="赵建国", org_unit=tree["village_a1"]).exists()
    assert not Veteran.objects.filter(name="钱卫东").exists()
