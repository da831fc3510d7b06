"""政务公开 as HTML over the site's app: the published policies, guides and notices by category and title, each
document's facts and paragraphs, the newest on the home page; drafts and withdrawn ones nowhere."""
import re

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from factories import create_publication
from portal.pages import china_today


def text_of(html: str) -> str:
    """The page's words without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="result-name"><a href="[^"]+">([^<]+)</a></h3>', html)


def test_the_list_shows_the_published_newest_first_and_no_draft(site_client, published):
    page = site_client.get("/policies")

    assert page.status_code == 200
    assert titles(page.text) == ["关于做好2026年清明节祭扫服务工作的通知", "骨灰撒海申请指南", "遗体火化办理指南",
                                 "北京市惠民殡葬服务实施办法"]
    assert "共 4 份文件" in text_of(page.text)
    assert "征求意见稿" not in page.text
    assert '<a href="/policies" aria-current="page">政务公开</a>' in page.text  # the nav names where we are


def test_category_links_filter_without_javascript_and_keep_the_words(site_client, published):
    guides = site_client.get("/policies", params={"category": "guide"}).text
    searched = site_client.get("/policies", params={"category": "guide", "q": "火化"}).text

    assert titles(guides) == ["骨灰撒海申请指南", "遗体火化办理指南"]
    assert '<a href="/policies?category=guide" aria-current="page">办事指南</a>' in guides
    assert titles(searched) == ["遗体火化办理指南"]
    # another category keeps what was searched; the category stays in the search form
    assert 'href="/policies?category=policy&amp;q=%E7%81%AB%E5%8C%96">政策法规</a>' in searched
    assert '<input type="hidden" name="category" value="guide">' in searched and 'value="火化"' in searched


def test_a_category_or_page_we_do_not_offer_is_refused_beside_the_form(site_client, published):
    page = site_client.get("/policies", params={"category": "law", "q": "火" * 51, "page": "x"})

    assert page.status_code == 400
    words = text_of(page.text)
    assert "请从列表中选择文件类别" in words and "标题关键词不能超过 50 个字" in words
    assert "页码应为 1 到 10000 之间的整数" in words
    assert titles(page.text) == [] and "<title>错误：" in page.text


def test_the_list_pages_twenty_at_a_time(site_client, published, admin):
    for n in range(17):
        create_publication(site_client, admin, publish=True, category="notice", title=f"殡葬服务通知{n:02d}")

    first = site_client.get("/policies").text
    second = site_client.get("/policies", params={"page": "2"}).text

    assert len(titles(first)) == 20 and titles(first)[0] == "殡葬服务通知16"
    assert 'href="/policies?page=2">下一页</a>' in first
    assert titles(second) == ["北京市惠民殡葬服务实施办法"] and 'href="/policies">上一页</a>' in second


def test_a_document_shows_its_facts_and_paragraphs(site_client, published):
    page = site_client.get(f"/policies/{published.documents['北京市惠民殡葬服务实施办法']}")
    words = text_of(page.text)

    assert page.status_code == 200
    assert "<h1>北京市惠民殡葬服务实施办法</h1>" in page.text
    day = china_today()
    assert "文号 京民殡发〔2026〕3号 发布机关 北京市民政局 施行日期 2026年3月1日" in words
    assert f"发布日期 {day.year}年{day.month}月{day.day}日" in words and "更新日期" not in words
    assert "<p>第三条 减免费用由殡仪馆直接减免，丧属无需先行垫付。</p>" in page.text  # one paragraph a line


def test_text_that_looks_like_markup_is_shown_not_run(site_client, admin):
    document = create_publication(site_client, admin, publish=True, title="关于<未成年人>不得独自祭扫的提示",
                                  content="请家长陪同 & 注意安全。")

    page = site_client.get(f"/policies/{document['id']}").text

    assert "关于&lt;未成年人&gt;不得独自祭扫的提示" in page and "请家长陪同 &amp; 注意安全。" in page
    assert "<未成年人>" not in page


def test_an_edit_and_a_withdrawal_show_on_the_next_load(site, site_client, published, admin):
    path = f"/policies/{published.documents['遗体火化办理指南']}"
    api = f"/api/v1/publications/{published.documents['遗体火化办理指南']}"
    site_client.get(path), site_client.get("/policies"), site_client.get("/")  # rendered and kept

    edited = site_client.patch(api, headers=admin, json={"content": "一、办理对象\n新的办理说明。"})
    after_edit = text_of(site_client.get(path).text)
    withdrawn = site_client.post(f"{api}/withdraw", headers=admin, json={"reason": "流程调整，重新发布"})

    assert edited.status_code == 200 and withdrawn.status_code == 200
    assert "新的办理说明。" in after_edit and "更新日期" in after_edit
    gone = site_client.get(path)
    assert gone.status_code == 404 and "找不到该页面" in gone.text
    assert "遗体火化办理指南" not in site_client.get("/policies").text
    assert "遗体火化办理指南" not in site_client.get("/").text


def test_drafts_and_unknown_documents_are_the_404_page(site_client, published):
    for path in (f"/policies/{published.documents['关于调整基本殡葬服务收费标准的通知（征求意见稿）']}",
                 "/policies/00000000-0000-0000-0000-000000000000", "/policies/not-an-id"):
        page = site_client.get(path)
        assert page.status_code == 404 and "<h1>找不到该页面</h1>" in page.text, path


def test_the_home_page_shows_the_latest_five(site_client, published, admin):
    create_publication(site_client, admin, publish=True, category="notice", title="关于冬至祭扫的温馨提示")
    create_publication(site_client, admin, publish=True, category="notice", title="殡仪馆临时停车安排")

    page = site_client.get("/").text
    latest = re.findall(r'<a href="/policies/[^"]+">([^<]+)</a>', page)

    assert latest == ["殡仪馆临时停车安排", "关于冬至祭扫的温馨提示", "关于做好2026年清明节祭扫服务工作的通知",
                      "骨灰撒海申请指南", "遗体火化办理指南"]
    assert "最新发布" in page and '<a href="/policies">查看全部政策法规、办事指南和通知公告</a>' in page


def test_links_keep_the_tenants_prefix(site, published):
    with TestClient(Starlette(routes=[Mount("/beijing", app=site)])) as client:
        page = client.get("/beijing/policies").text

    assert '<a href="/beijing/policies?category=guide">办事指南</a>' in page
    assert f'<a href="/beijing/policies/{published.documents["遗体火化办理指南"]}">遗体火化办理指南</a>' in page
