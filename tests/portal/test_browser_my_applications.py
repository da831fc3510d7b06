"""我的办事 in a real browser (headless Chromium over real HTTP on loopback against `fsp serve`'s app), at a
phone's width: a citizen signs in, files a complaint against an institution of the directory (first refused, then
filed), keeps the query code and finds the complaint in their list. Every page is scanned by axe-core and kept as
screenshots at desktop and phone width under build/screenshots/."""
import re

from playwright.sync_api import expect

from browsing import check_at_each_width

# the browser, `served` (with the directory's institutions published) and `phone_page`: tests/portal/conftest.py


def test_a_citizen_files_a_complaint_on_a_phone(served, phone_page):
    page = phone_page
    page.goto(served.url + "/beijing/my/")
    page.get_by_label("用户名").fill("zhang.san")
    page.get_by_label("用户名").press("Enter")
    expect(page.locator("h1")).to_have_text("我的办事")
    page.get_by_role("link", name="投诉", exact=True).click()
    expect(page.locator("h1")).to_have_text("投诉")
    check_at_each_width(page, "my-complaints-empty")
    page.get_by_role("link", name="提交新的投诉").click()
    expect(page.locator("h1")).to_have_text("提交投诉")
    check_at_each_width(page, "my-complaint-new")

    page.get_by_label("被投诉机构").select_option(index=1)
    page.get_by_label("投诉类别").select_option("pricing")
    page.get_by_label("投诉内容").fill("收取了未公示的守灵费用。")
    page.get_by_label("联系电话").fill("12")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("投诉内容")).to_have_value("收取了未公示的守灵费用。")
    check_at_each_width(page, "my-complaint-refused")

    page.get_by_label("联系电话").fill("13800001234")
    page.get_by_role("button", name="提交").click()
    expect(page.locator("h1")).to_have_text("投诉已提交")
    code = page.locator(".query-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9-]{8,}", code), code
    check_at_each_width(page, "my-complaint-created")

    page.get_by_role("link", name="查看投诉").click()
    expect(page.locator("main")).to_contain_text("收取了未公示的守灵费用。")
    expect(page.locator("main")).to_contain_text("已受理，待交办")
    expect(page.locator("main")).not_to_contain_text(code)
    check_at_each_width(page, "my-complaint")
    page.get_by_role("link", name="投诉", exact=True).last.click()
    expect(page.locator("table")).to_contain_text("收费问题")
    check_at_each_width(page, "my-complaints")


def test_the_transport_application_form_and_its_refusals_fit_a_phone(served, phone_page):
    page = phone_page
    page.goto(served.url + "/beijing/my/approvals/new?kind=transport")
    page.get_by_label("用户名").fill("li.si")
    page.get_by_label("用户名").press("Enter")
    expect(page.locator("h1")).to_have_text("申请遗体跨省运输")
    check_at_each_width(page, "my-approval-new")
    page.get_by_label("逝者姓名").fill("张三")
    page.get_by_label("运输车辆号牌").fill("ABC")
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_label("运输车辆号牌")).to_have_value("ABC")
    check_at_each_width(page, "my-approval-refused")
    page.goto(served.url + "/beijing/my/approvals")
    expect(page.locator("main")).to_contain_text("您还没有提交审批申请")
    check_at_each_width(page, "my-approvals-empty")
