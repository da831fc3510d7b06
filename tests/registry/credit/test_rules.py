"""The shipped credit rules, each against a hand-computed expectation, and a rules file that does not hold
refused with every problem named."""
from pathlib import Path

import pytest
import yaml

from registry.credit import rules
from registry.credit.rules import Facts, RulesError

RULES = rules.shipped()


def points(facts: Facts) -> dict[str, float]:
    return {part["rule"]: part["points"] for part in rules.breakdown(RULES, facts)}


def test_the_shipped_rules_load_with_their_version():
    assert RULES.version == "2026.1" and RULES.base == 100
    assert [rule.id for rule in RULES.rules] == list(rules.RULE_IDS)


def test_an_institution_without_facts_loses_only_the_missing_inspection():
    # no complaint, no rating, no violation, no penalty; no inspection recorded: -5
    assert points(Facts()) == {"upheld_complaint": 0, "satisfaction": 0, "price_violation": 0, "inspection": -5,
                               "penalty": 0}
    assert rules.score(RULES, rules.breakdown(RULES, Facts())) == 95


def test_upheld_complaints_take_five_each_at_most_thirty():
    assert points(Facts(upheld_complaints=["TS1", "TS2"]))["upheld_complaint"] == -10
    assert points(Facts(upheld_complaints=[f"TS{n}" for n in range(9)]))["upheld_complaint"] == -30  # 45, capped


def test_satisfaction_gives_ten_per_point_of_mean_from_four_from_five_ratings_at_most_ten():
    assert points(Facts(ratings_count=5, ratings_mean=4.6))["satisfaction"] == 6  # 10 × 0.6
    assert points(Facts(ratings_count=8, ratings_mean=3.25))["satisfaction"] == -7.5  # 10 × -0.75
    assert points(Facts(ratings_count=5, ratings_mean=1.0))["satisfaction"] == -10  # -30, capped
    assert points(Facts(ratings_count=4, ratings_mean=1.0))["satisfaction"] == 0  # too few ratings to count


def test_price_violations_take_ten_each_at_most_forty():
    order = {"order_no": "PO1", "amount_fen": 50000, "published_fen": 40000}
    assert points(Facts(price_violations=[order]))["price_violation"] == -10
    assert points(Facts(price_violations=[order] * 5))["price_violation"] == -40


@pytest.mark.parametrize(("result", "expected"), [("qualified", 0), ("basically_qualified", -10),
                                                  ("unqualified", -30)])
def test_the_inspection_counts_by_its_result(result, expected):
    inspection = {"inspected_on": "2026-03-01", "result": result, "findings": []}
    assert points(Facts(inspection=inspection))["inspection"] == expected


def test_penalties_count_by_kind_at_most_sixty():
    def penalty(kind):
        return {"decision_no": kind, "decided_on": "2026-05-01", "kind": kind, "amount_fen": 0}

    assert points(Facts(penalties=[penalty("warning"), penalty("fine")]))["penalty"] == -15
    assert points(Facts(penalties=[penalty("licence_revocation"), penalty("fine")]))["penalty"] == -60  # 70, capped


def test_a_score_is_the_sum_from_the_base_kept_within_0_and_100():
    facts = Facts(upheld_complaints=["TS1"], ratings_count=10, ratings_mean=5.0,
                  inspection={"inspected_on": "2026-03-01", "result": "qualified", "findings": []})
    assert rules.score(RULES, rules.breakdown(RULES, facts)) == 100  # 100 - 5 + 10 = 105, kept at 100
    worst = Facts(upheld_complaints=["x"] * 10, ratings_count=5, ratings_mean=1.0, price_violations=[{}] * 5,
                  inspection={"inspected_on": "2026-03-01", "result": "unqualified", "findings": []},
                  penalties=[{"decision_no": "x", "kind": "licence_revocation"}])
    assert rules.score(RULES, rules.breakdown(RULES, worst)) == 0  # 100 - 170, kept at 0


def test_lists_by_score_and_penalties():
    fine = [{"decision_no": "罚字〔2026〕1号", "kind": "fine"}]
    revoked = [{"decision_no": "罚字〔2026〕2号", "kind": "licence_revocation"}]
    assert rules.listing(RULES, 90, Facts())[0] == "red"
    assert rules.listing(RULES, 95, Facts(penalties=fine))[0] is None  # red needs a year without penalty
    assert rules.listing(RULES, 89.9, Facts())[0] is None
    assert rules.listing(RULES, 60, Facts())[0] is None
    listing, reasons = rules.listing(RULES, 59.5, Facts())
    assert (listing, reasons) == ("black", [{"code": "score_below", "text": "得分 59.5 低于 60 分"}])
    listing, reasons = rules.listing(RULES, 92, Facts(penalties=revoked))
    assert listing == "black" and reasons == [{"code": "serious_penalty", "text": "受到严重行政处罚（罚字〔2026〕2号）"}]


def _written(tmp_path: Path, change) -> Path:
    document = yaml.safe_load(rules.RULES_FILE.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "said"), [
    (lambda d: d["rules"][0].update(points=5), "upheld_complaint: points (per fact) must be given and not positive"),
    (lambda d: d["rules"].pop(1), "rules must define each of"),
    (lambda d: d["rules"][3]["points_by_result"].pop("missing"), "inspection: points_by_result must name exactly"),
    (lambda d: d["rules"][4]["points_by_kind"].update(jail=-100), "penalty: points_by_kind must name exactly"),
    (lambda d: d["rules"][2].update(cap=-1), "rules.2.cap: Input should be greater than or equal to 0"),
    (lambda d: d["lists"]["red"].update(min_score=50), "red.min_score must not be below black.below_score"),
    (lambda d: d["lists"]["black"].update(serious_penalty_kinds=["jail"]), "lists.black.serious_penalty_kinds.0"),
    (lambda d: d.update(weights=1), "weights: Extra inputs are not permitted"),
])
def test_a_rules_file_that_does_not_hold_is_refused_naming_the_file_and_the_problem(tmp_path, change, said):
    with pytest.raises(RulesError) as refused:
        rules.load(_written(tmp_path, change))
    assert str(refused.value).startswith("rules.yaml: ") and said in str(refused.value)


def test_a_rules_file_that_is_not_yaml_is_refused(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules: [unclosed", encoding="utf-8")
    with pytest.raises(RulesError, match="cannot be read as YAML"):
        rules.load(path)
