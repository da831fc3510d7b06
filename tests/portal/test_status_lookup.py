"""办件查询 on the portal: the form, the answer in words, and the same refusals and limit as the registry's."""
from datetime import UTC, datetime

import pytest

from registry import online_status, query_codes
from registry.query_codes import PublicStatus

STATUS = "/services/status"
HTML = {"Accept": "text/html"}
CODE = query_codes.new_code()


@pytest.fixture(autouse=True)
def one_service(monkeypatch):
    answer = PublicStatus(kind="transport_approval", number="110000-YS-2026-000007", status="accepted",
                          updated_at=datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
                          due_on=datetime(2026, 12, 7, 16, 0, tzinfo=UTC))
    monkeypatch.setattr(online_status, "RESOLVERS", (
        lambda session, digest: answer if digest == query_codes.digest(CODE) else None,))


def test_the_home_page_links_to_the_lookup(site_client):
    assert f'href="{STATUS}"' in site_client.get("/", headers=HTML).text


def test_a_code_answers_kind_and_status_in_words(site_client):
    form = site_client.get(STATUS, headers=HTML)
    assert form.status_code == 200 and "查询码" in form.text and 'method="post"' in form.text
    answer = site_client.post(STATUS, data={"code": CODE.lower()}, headers=HTML)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    for shown in ("遗体跨省运输审批", "110000-YS-2026-000007", "已受理", "2026年12月1日", "2026年12月8日"):
        assert shown in answer.text, shown


def test_a_wrong_code_is_not_found_and_a_malformed_one_refused_beside_its_field(site_client):
    wrong = site_client.post(STATUS, data={"code": query_codes.new_code()}, headers=HTML)
    assert wrong.status_code == 200 and "未查到" in wrong.text
    malformed = site_client.post(STATUS, data={"code": "ABC"}, headers=HTML)
    assert malformed.status_code == 400 and 'aria-invalid="true"' in malformed.text
    assert "查询码格式不正确" in malformed.text and 'value="ABC"' in malformed.text
    empty = site_client.post(STATUS, data={"code": "  "}, headers=HTML)
    assert empty.status_code == 400 and "请输入查询码" in empty.text


def test_too_many_misses_pause_the_form(site, site_client):
    site.state.ctx.query_attempts.max_failures = 2
    for _ in range(2):
        site_client.post(STATUS, data={"code": query_codes.new_code()}, headers=HTML)
    paused = site_client.post(STATUS, data={"code": CODE}, headers=HTML)
    assert paused.status_code == 429 and "暂停查询" in paused.text
    assert site.state.ctx.metrics.registry.get_sample_value("fsp_status_lookups_total", {"outcome": "limited"}) == 1
