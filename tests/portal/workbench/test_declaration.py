"""A registrar declares a death in the workbench: the form sends what was typed to the registry's API, which
decides; its refusals stand beside their fields in Chinese, and a likely duplicate links to the existing case."""
from datetime import datetime

from case_work import api_headers, case_count, declaration_form, post_form
from factories import resident_id

NEW = "/workbench/cases/new"


def test_a_registrar_declares_a_death_and_lands_on_the_new_case(site, site_client, staff_client, institution_id):
    client = staff_client("registrar", institution_id)
    form = client.get(NEW)
    assert form.status_code == 200 and 'type="datetime-local"' in form.text and "汉族" in form.text
    typed = declaration_form(deceased_name="李四", death_at="2026-01-31T23:30")
    answer = post_form(client, NEW, NEW, typed)
    assert answer.status_code == 303
    case_id = answer.headers["location"].removeprefix("/workbench/cases/").removesuffix("?done=declare")
    case = site_client.get(f"/api/v1/cases/{case_id}", headers=api_headers(site, "reviewer")).json()
    assert case["deceased_name"] == "李四" and case["status"] == "declared"
    assert case["institution_id"] == institution_id and case["informant"]["relation"] == "子女"
    # the time typed is China time, whatever the server's zone
    assert datetime.fromisoformat(case["death_at"]) == datetime.fromisoformat("2026-01-31T23:30:00+08:00")
    shown = client.get(answer.headers["location"])
    assert "死亡登记已提交" in shown.text and "李四" in shown.text and "已申报" in shown.text
    assert typed["id_number"] not in shown.text and case["id_number"] in shown.text  # masked as the API gives it


def test_refused_input_stands_beside_its_fields_kept_and_nothing_is_written(site, site_client, staff_client,
                                                                          institution_id):
    client = staff_client("registrar", institution_id)
    headers = api_headers(site, "reviewer")
    before = case_count(site_client, headers)
    typed = declaration_form(informant_phone="电话", deceased_name="", death_place_type="hospital")
    answer = post_form(client, NEW, NEW, typed)
    assert answer.status_code == 400
    html = answer.text
    for field in ("informant_phone", "deceased_name"):
        assert f'id="{field}-error"' in html, field
    assert 'href="#informant_phone"' in html  # the summary leads to the field of a nested API name
    assert "请填写逝者姓名" in html and 'value="电话"' in html
    assert f'value="{typed["birth_date"]}"' in html and '<option value="hospital" selected>' in html
    # a wrong check digit: the ID number's own rule, once the fields themselves are well formed
    wrong = post_form(client, NEW, NEW, declaration_form(id_number="110105194912310000", birth_date="1949-12-31"))
    assert wrong.status_code == 400 and 'id="id_number-error"' in wrong.text
    assert 'value="110105194912310000"' in wrong.text
    assert case_count(site_client, headers) == before


def test_a_death_time_in_the_future_is_refused_by_the_api_in_chinese(staff_client, institution_id):
    client = staff_client("registrar", institution_id)
    answer = post_form(client, NEW, NEW, declaration_form(death_at="2099-01-01T08:00"))
    assert answer.status_code == 400 and 'id="death_at-error"' in answer.text and "不能晚于当前时间" in answer.text
    assert 'value="2099-01-01T08:00"' in answer.text


def test_a_likely_duplicate_links_to_the_existing_case(site, site_client, staff_client, institution_id):
    client = staff_client("registrar", institution_id)
    typed = declaration_form(id_number=resident_id(birth=datetime(1950, 3, 4).date(), seq=321),
                             birth_date="1950-03-04")
    first = post_form(client, NEW, NEW, typed)
    existing = first.headers["location"].split("?")[0]
    again = post_form(client, NEW, NEW, typed | {"deceased_name": "王另一"})
    assert again.status_code == 409
    assert 'id="id_number-error"' in again.text and "可能是重复申报" in again.text
    assert f'href="{existing}"' in again.text
    assert case_count(site_client, api_headers(site, "reviewer")) == 1


def test_a_reviewer_is_not_offered_the_declaration_and_the_api_refuses_one_posted(site, site_client, staff_client,
                                                                                 institution_id):
    reviewer = staff_client("reviewer")
    assert reviewer.get(NEW).status_code == 403 and "无权办理" in reviewer.get(NEW).text
    posted = post_form(reviewer, "/workbench/cases", NEW, declaration_form())  # CSRF token from a page they may see
    assert posted.status_code == 403 and "没有此项操作的权限" in posted.text
    assert case_count(site_client, api_headers(site, "reviewer")) == 0
