"""The credit evaluation's rules (rules.yaml beside this module): loaded, checked, and applied to an institution's
facts of a year. A rules file that does not hold is refused with every problem named (RulesError), never half-used."""
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from registry.credit.models import CreditList, InspectionResult, PenaltyKind

RULES_FILE = Path(__file__).with_name("rules.yaml")
MISSING = "missing"  # no inspection recorded for the year
RULE_IDS = ("upheld_complaint", "satisfaction", "price_violation", "inspection", "penalty")


class RulesError(ValueError):
    """The rules file is not usable: which file, and each problem at its place in the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Strict):
    id: str
    name: str = Field(min_length=1)
    cap: float = Field(ge=0)  # the most points the rule gives or takes in a year
    points: float | None = None  # per fact counted, or per point of mean score (satisfaction)
    pivot: float | None = Field(default=None, ge=1, le=5)
    min_ratings: int | None = Field(default=None, ge=1)
    points_by_result: dict[str, float] | None = None
    points_by_kind: dict[str, float] | None = None

    @model_validator(mode="after")
    def _shape(self):
        if self.id not in RULE_IDS:
            raise ValueError(f"unknown rule id {self.id!r}: one of {', '.join(RULE_IDS)}")
        if self.id in ("upheld_complaint", "price_violation") and (self.points is None or self.points > 0):
            raise ValueError(f"{self.id}: points (per fact) must be given and not positive")
        if self.id == "satisfaction" and None in (self.points, self.pivot, self.min_ratings):
            raise ValueError("satisfaction: points, pivot and min_ratings are required")
        if self.id == "inspection" and set(self.points_by_result or {}) != {*InspectionResult, MISSING}:
            raise ValueError(f"inspection: points_by_result must name exactly {', '.join([*InspectionResult, MISSING])}")
        if self.id == "penalty" and set(self.points_by_kind or {}) != set(PenaltyKind):
            raise ValueError(f"penalty: points_by_kind must name exactly {', '.join(PenaltyKind)}")
        return self


class RedList(_Strict):
    min_score: float = Field(ge=0, le=100)
    no_penalty: bool = True


class BlackList(_Strict):
    below_score: float = Field(ge=0, le=100)
    serious_penalty_kinds: list[PenaltyKind] = Field(default_factory=list)


class Lists(_Strict):
    red: RedList
    black: BlackList

    @model_validator(mode="after")
    def _apart(self):
        if self.red.min_score < self.black.below_score:
            raise ValueError("red.min_score must not be below black.below_score: one score would be on both lists")
        return self


class Rules(_Strict):
    version: str = Field(min_length=1, max_length=20)
    base: float = Field(ge=0, le=100)
    rules: list[Rule]
    lists: Lists

    @model_validator(mode="after")
    def _each_once(self):
        ids = [rule.id for rule in self.rules]
        if sorted(ids) != sorted(RULE_IDS):
            raise ValueError(f"rules must define each of {', '.join(RULE_IDS)} exactly once, found {', '.join(ids)}")
        return self

    def rule(self, rule_id: str) -> Rule:
        return next(rule for rule in self.rules if rule.id == rule_id)


def load(path: Path = RULES_FILE) -> Rules:
    """The rules of `path`, checked; RulesError naming the file and each problem otherwise."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RulesError(f"{path.name}: cannot be read as YAML: {error}") from None
    try:
        return Rules.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in error.errors())
        raise RulesError(f"{path.name}: {problems}") from None


@cache
def shipped() -> Rules:
    """The rules shipped with the registry, read once."""
    return load()


@dataclass
class Facts:
    """What the evaluation counts of one institution's year; each list item names its fact (no person)."""
    upheld_complaints: list[str] = field(default_factory=list)  # complaint numbers
    ratings_count: int = 0
    ratings_mean: float | None = None
    price_violations: list[dict] = field(default_factory=list)  # {order_no, amount_fen, published_fen}
    inspection: dict | None = None  # {inspected_on, result, findings}
    penalties: list[dict] = field(default_factory=list)  # {decision_no, decided_on, kind, amount_fen}


def _capped(points: float, cap: float) -> float:
    return round(max(-cap, min(cap, points)), 1)


def breakdown(rules: Rules, facts: Facts) -> list[dict]:
    """Each rule's points with the facts it counted, in the rules' order."""
    def entry(rule: Rule, points: float, counted: dict) -> dict:
        return {"rule": rule.id, "name": rule.name, "points": _capped(points, rule.cap), "facts": counted}

    found = []
    for rule in rules.rules:
        if rule.id == "upheld_complaint":
            found.append(entry(rule, rule.points * len(facts.upheld_complaints),
                               {"complaints": facts.upheld_complaints}))
        elif rule.id == "satisfaction":
            counts = facts.ratings_mean is not None and facts.ratings_count >= rule.min_ratings
            points = rule.points * (facts.ratings_mean - rule.pivot) if counts else 0
            found.append(entry(rule, points, {"ratings": facts.ratings_count, "mean": facts.ratings_mean,
                                              "min_ratings": rule.min_ratings, "pivot": rule.pivot}))
        elif rule.id == "price_violation":
            found.append(entry(rule, rule.points * len(facts.price_violations), {"orders": facts.price_violations}))
        elif rule.id == "inspection":
            result = facts.inspection["result"] if facts.inspection else MISSING
            found.append(entry(rule, rule.points_by_result[result], {"inspection": facts.inspection}))
        else:
            points = sum(rule.points_by_kind[p["kind"]] for p in facts.penalties)
            found.append(entry(rule, points, {"penalties": facts.penalties}))
    return found


def score(rules: Rules, parts: list[dict]) -> float:
    """The base and every rule's points, kept within 0..100."""
    return round(max(0.0, min(100.0, rules.base + sum(part["points"] for part in parts))), 1)


def listing(rules: Rules, value: float, facts: Facts) -> tuple[CreditList | None, list[dict]]:
    """The list the score and facts put the institution on, and why (black before red)."""
    black, red = rules.lists.black, rules.lists.red
    reasons = []
    if value < black.below_score:
        reasons.append({"code": "score_below", "text": f"得分 {value:g} 低于 {black.below_score:g} 分"})
    serious = [p for p in facts.penalties if p["kind"] in black.serious_penalty_kinds]
    reasons += [{"code": "serious_penalty", "text": f"受到严重行政处罚（{p['decision_no']}）"} for p in serious]
    if reasons:
        return CreditList.black, reasons
    if value >= red.min_score and not (red.no_penalty and facts.penalties):
        text = f"得分 {value:g} 不低于 {red.min_score:g} 分" + ("，且年度内无行政处罚" if red.no_penalty else "")
        return CreditList.red, [{"code": "score_at_least", "text": text}]
    return None, [{"code": "not_listed", "text": f"得分 {value:g}，不符合红名单或黑名单条件"}]
