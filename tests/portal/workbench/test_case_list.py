"""Finding cases in the workbench: the registry's own list, its filters and refusals, as a page."""
from factories import declare_case


def test_a_registrar_finds_the_cases_of_their_institution_filtered_and_paged(site, site_client, staff_client,
                                                                               institution_id):
    token = site.state.ctx.issuer.mint("registrar-api", ["registrar"], institution_id=institution_id)
    headers = {"Authorization": f"Bearer {token}"}
    for n in range(23):
        declare_case(site_client, headers, institution_id, deceased_name=f"张{'一二三四五六七八九十'[n % 10]}{n:02d}")
    client = staff_client("registrar", institution_id)
    first = client.get("/workbench/cases")
    assert first.status_code == 200 and "共 23 件" in first.text and "第 1 页，共 2 页" in first.text
    assert first.text.count('href="/workbench/cases/') == 20
    second = client.get("/workbench/cases?page=2")
    assert second.text.count('href="/workbench/cases/') == 3 and 'rel="prev"' in second.text
    one = client.get("/workbench/cases", params={"deceased_name": "张三02"})
    assert "共 1 件" in one.text and "张三02" in one.text and "已申报" in one.text


def test_a_filter_the_registry_refuses_is_shown_beside_its_field(staff_client, institution_id):
    client = staff_client("reviewer")
    answer = client.get("/workbench/cases", params={"died_from": "2026-02-30", "deceased_name": "李四"})
    assert answer.status_code == 400
    assert 'id="died_from-error"' in answer.text and 'value="2026-02-30"' in answer.text
    assert 'value="李四"' in answer.text
