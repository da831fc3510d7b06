"""The public red and black lists (红黑名单): linked from the province's home, shown without sign-in with each
institution's public facts and why it is listed, refreshed when the province evaluates again."""
from assertions import text_of
from factories import YEAR, create_institution, inspection_payload, penalty_payload


def test_the_lists_are_public_linked_from_home_and_follow_the_evaluation(site_client, admin):
    good = create_institution(site_client, admin, name="八宝山殡仪馆")
    bad = create_institution(site_client, admin, name="东郊殡仪服务站", type="service_station")
    assert site_client.post("/api/v1/credit/inspections", json=inspection_payload(good["id"]), headers=admin).status_code == 201
    assert site_client.post("/api/v1/credit/penalties", json=penalty_payload(bad["id"], kind="suspension",
                                                                             decision_no="京民罚〔2026〕1号"),
                            headers=admin).status_code == 201
    assert 'href="/credit-lists"' in site_client.get("/").text
    assert "本年度暂无列入红名单的机构。" in site_client.get("/credit-lists").text  # not evaluated yet

    assert site_client.post("/api/v1/credit/evaluations", json={"year": YEAR}, headers=admin).status_code == 200
    page = site_client.get("/credit-lists")  # the evaluation's write made the kept page stale

    shown = text_of(page.text)
    assert page.status_code == 200
    red, black = shown.split(f"{YEAR} 年度黑名单")
    assert f"八宝山殡仪馆 {good['credit_code']} 100 得分 100 不低于 90 分，且年度内无行政处罚" in red
    assert f"东郊殡仪服务站 {bad['credit_code']} 65" in black and "受到严重行政处罚（京民罚〔2026〕1号）" in black
    assert "东郊" not in red
    assert site_client.get("/credit-lists", params={"year": "20x6"}).status_code == 400
    assert "本年度暂无列入黑名单的机构。" in site_client.get("/credit-lists", params={"year": YEAR - 1}).text
