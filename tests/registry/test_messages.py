"""Refusals speak to staff in Chinese (English when asked), in plain words, keeping `field` and `rule`."""
import ast
import uuid
from pathlib import Path

import pytest

from factories import case_payload, create_institution
from registry import messages

REGISTRY = Path(messages.__file__).parent
RULE_ARGUMENT = {"Invalid": 1, "Conflict": 1, "Forbidden": 1, "rule_error": 1, "PydanticCustomError": 0}


def _rules_raised_in_the_registry() -> set[str]:
    """Every literal rule name a service, validator or handler of the registry can answer with."""
    found = set()
    for path in REGISTRY.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", None))
                position = RULE_ARGUMENT.get(name)
                if position is not None and len(node.args) > position:
                    argument = node.args[position]
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        found.add(argument.value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if (isinstance(key, ast.Constant) and key.value == "rule" and isinstance(value, ast.Constant)
                            and isinstance(value.value, str)):
                        found.add(value.value)
    return found


def test_every_rule_the_registry_raises_has_its_chinese_sentence():
    raised = _rules_raised_in_the_registry()
    assert len(raised) > 30, "the scan found too few rules to be looking at the right code"
    assert raised - set(messages.RULES) == set()


@pytest.fixture
def registrar(client, mint):
    institution = create_institution(client, mint("provincial-admin"))
    return institution, mint("registrar", institution_id=uuid.UUID(institution["id"]))


def test_validation_messages_are_chinese_plain_and_keep_field_and_rule(client, registrar):
    institution, headers = registrar
    payload = case_payload(institution["id"], deceased_name="", death_certificate_no="证明#1")
    del payload["sex"]
    errors = client.post("/api/v1/cases", json=payload, headers=headers).json()["errors"]
    by_field = {e["field"]: e for e in errors}
    assert by_field["sex"] == {"field": "sex", "rule": "missing", "message": "请填写性别。"}
    assert by_field["deceased_name"]["message"] == "逝者姓名至少需要 1 个字符。"
    assert by_field["death_certificate_no"]["rule"] == "string_pattern_mismatch"
    assert by_field["death_certificate_no"]["message"] == "死亡医学证明编号的格式不正确（应为4 至 32 位字母、数字或“-”）。"
    assert all("should" not in e["message"] and "^" not in e["message"] for e in errors)


def test_english_when_the_reader_prefers_it(client, registrar):
    institution, headers = registrar
    payload = case_payload(institution["id"], sex="7")
    response = client.post("/api/v1/cases", json=payload,
                           headers={**headers, "Accept-Language": "en-GB,en;q=0.9,zh-CN;q=0.5"})
    (error,) = response.json()["errors"]
    assert response.json()["title"] == "invalid input"
    assert error["rule"] == "enum" and error["message"].startswith("sex must be one of")


@pytest.mark.parametrize(("header", "language"), [
    (None, "zh"), ("zh-CN", "zh"), ("en", "en"), ("fr-FR,en;q=0.3", "en"), ("en;q=0.4,zh;q=0.8", "zh"),
    ("de", "zh"), ("en;q=abc", "zh"), ("*", "zh"),
])
def test_accept_language_negotiation(header, language):
    assert messages.language_of(header) == language


def test_domain_refusals_are_chinese_and_name_the_existing_record(client, registrar):
    institution, headers = registrar
    payload = case_payload(institution["id"])
    first = client.post("/api/v1/cases", json=payload, headers=headers).json()
    again = client.post("/api/v1/cases", json=payload, headers=headers)
    assert again.status_code == 409 and again.json()["title"] == "冲突"
    (error,) = again.json()["errors"]
    assert error["message"] == "已有相同证件号码的逝者业务，可能是重复申报。"
    assert error["existing_case_id"] == first["id"]


def test_refused_archive_records_are_worded_for_the_reader(client, mint, registrar):
    institution, _ = registrar
    record = {**case_payload(institution["id"], sex="7"), "archive_ref": "BJ-2012/1"}
    answer = client.post("/api/v1/cases/imports", json={"records": [record]}, headers=mint("provincial-admin"))
    (error,) = answer.json()["results"][0]["errors"]
    assert error == {"field": "sex", "rule": "enum", "message": "性别只能是以下之一：'0'、'1'、'2'、'9'。"}
