"""The packaged tenant catalog, resolving tenants, and the problems a wrong catalog reports."""

import shutil
from pathlib import Path

import pytest

from tenants import DEFAULT_CATALOG_DIR, CatalogError, CatalogProblem, UnknownTenantError, load_catalog
from tenants.divisions import PROVINCIAL_DIVISIONS

PILOTS = {"beijing", "tianjin", "shandong", "shaanxi", "yunnan"}


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_packaged_catalog_has_every_tenant(catalog):
    assert len(catalog.tenants) == 33
    assert len(catalog.provinces) == 32
    assert {t.code for t in catalog.provinces} == set(PROVINCIAL_DIVISIONS)
    assert catalog.ministry.code == "100000" and catalog.ministry.slug == "ministry"


def test_pilots_are_exactly_the_five_named_in_the_plan(catalog):
    assert {t.slug for t in catalog.pilots} == PILOTS


def test_codes_and_slugs_are_unique(catalog):
    assert len({t.code for t in catalog.tenants}) == 33
    assert len({t.slug for t in catalog.tenants}) == 33


def test_ministry_first_then_provinces_by_code(catalog):
    codes = [t.code for t in catalog.tenants]
    assert codes[0] == "100000"
    assert codes[1:] == sorted(codes[1:])
    assert codes[1] == "110000" and codes[-1] == "660000"


def test_defaults_filled_in(catalog):
    beijing = catalog.resolve("beijing")
    assert beijing.protection_grade == 3
    assert beijing.audit_retention_days == 180
    assert beijing.sso.realm == "fsp-beijing" == beijing.realm_name
    assert beijing.database.backend == "sqlite"


@pytest.mark.parametrize("ref", ["shaanxi", "SHAANXI", " Shaanxi ", "610000"])
def test_resolve_by_slug_any_case_or_code(catalog, ref):
    assert catalog.resolve(ref).code == "610000"


def test_shanxi_and_shaanxi_are_different_provinces(catalog):
    assert catalog.resolve("shanxi").code == "140000"
    assert catalog.resolve("shaanxi").code == "610000"


def test_unknown_tenant_suggests_near_matches(catalog):
    with pytest.raises(UnknownTenantError) as exc:
        catalog.resolve("bejing")
    assert str(exc.value) == "unknown tenant 'bejing'; did you mean: beijing?"


def test_unknown_tenant_suggests_by_chinese_name_and_code(catalog):
    with pytest.raises(UnknownTenantError) as exc:
        catalog.resolve("北京")
    assert exc.value.suggestions == ["beijing"]
    with pytest.raises(UnknownTenantError) as exc:
        catalog.resolve("61000")
    assert "shaanxi" in exc.value.suggestions


def test_unknown_tenant_without_near_match(catalog):
    with pytest.raises(UnknownTenantError) as exc:
        catalog.resolve("atlantis")
    assert exc.value.suggestions == []
    assert "unknown tenant 'atlantis'" in str(exc.value)


# --- wrong catalogs -------------------------------------------------------------------------


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """A valid catalog of three tenants to break."""
    for slug in ("ministry", "beijing", "tianjin"):
        shutil.copy(DEFAULT_CATALOG_DIR / f"{slug}.yaml", tmp_path)
    return tmp_path


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(text, encoding="utf-8")


TIANJIN = 'code: "120000"\nslug: tianjin\nkind: province\nname_zh: 天津市\nname_en: Tianjin\n'


def problems_of(directory: Path) -> list[CatalogProblem]:
    with pytest.raises(CatalogError) as exc:
        load_catalog(directory)
    return exc.value.problems


def find(problems: list[CatalogProblem], file: str, field: str) -> CatalogProblem:
    """The one problem for this file and field; fails listing all problems otherwise."""
    matching = [p for p in problems if p.file == file and p.field == field]
    assert len(matching) == 1, "\n".join(map(str, problems))
    return matching[0]


def test_small_catalog_is_valid(small):
    assert [t.slug for t in load_catalog(small).tenants] == ["ministry", "beijing", "tianjin"]


def test_duplicate_code_names_both_files(small):
    write(small, "tianjin.yaml", (small / "beijing.yaml").read_text(encoding="utf-8"))
    problem = find(problems_of(small), "tianjin.yaml", "code")
    assert problem.reason == "duplicate code 110000: also in beijing.yaml"


def test_duplicate_slug_names_both_files(small):
    shutil.copy(small / "beijing.yaml", small / "beijing-copy.yaml")
    reasons = {str(p) for p in problems_of(small)}
    # the stray copy is blamed, not the file named after the slug
    assert "beijing-copy.yaml: slug: duplicate slug beijing: also in beijing.yaml" in reasons, reasons
    assert "beijing-copy.yaml: slug: file must be named beijing.yaml" in reasons, reasons
    assert not any(r.startswith("beijing.yaml") for r in reasons), reasons


def test_non_province_code(small):
    write(small, "tianjin.yaml", TIANJIN.replace("120000", "110100"))
    problem = find(problems_of(small), "tianjin.yaml", "code")
    assert "110100 is not a provincial-level division code" in problem.reason


@pytest.mark.parametrize("code", ["710000", "810000", "820000"])
def test_taiwan_hong_kong_macau_are_out_of_scope(small, code):
    write(small, "tianjin.yaml", TIANJIN.replace("120000", code))
    assert "not a provincial-level division code" in find(problems_of(small), "tianjin.yaml", "code").reason


def test_unknown_key_suggests_spelling(small):
    write(small, "tianjin.yaml", TIANJIN + "monitoring:\n  retension_days: 30\n")
    problem = find(problems_of(small), "tianjin.yaml", "monitoring.retension_days")
    assert problem.reason == "unknown key; did you mean retention_days?"


def test_bad_value_names_rule_and_value(small):
    write(small, "tianjin.yaml", TIANJIN + "audit_retention_days: 30\n")
    problem = find(problems_of(small), "tianjin.yaml", "audit_retention_days")
    assert "greater than or equal to 180" in problem.reason and "30" in problem.reason


def test_protection_grade_must_be_3(small):
    write(small, "tianjin.yaml", TIANJIN + "protection_grade: 2\n")
    assert "3" in find(problems_of(small), "tianjin.yaml", "protection_grade").reason


def test_keycloak_without_url(small):
    write(small, "tianjin.yaml", TIANJIN + "sso:\n  provider: keycloak\n")
    problem = find(problems_of(small), "tianjin.yaml", "sso.keycloak_url")
    assert problem.reason == "required when provider is keycloak"


def test_keycloak_with_url_is_valid(small):
    write(small, "tianjin.yaml", TIANJIN + "sso:\n  provider: keycloak\n  keycloak_url: https://sso.tj.example.cn\n")
    tianjin = load_catalog(small).resolve("tianjin")
    assert str(tianjin.sso.keycloak_url).startswith("https://sso.tj.example.cn")
    assert tianjin.realm_name == "fsp-tianjin"


def test_departments_are_reached_over_https_only_and_by_provinces_only(small):
    write(small, "tianjin.yaml", TIANJIN + "sharing:\n  departments:\n    marriage: http://10.1.2.3/n\n")
    assert "only https" in find(problems_of(small), "tianjin.yaml", "sharing.departments").reason
    write(small, "tianjin.yaml", TIANJIN + "sharing:\n  departments:\n    police: https://gat.tj.example.cn\n")
    assert "public_security" in find(problems_of(small), "tianjin.yaml", "sharing.departments.police.[key]").reason
    write(small, "tianjin.yaml", TIANJIN)
    ministry = (small / "ministry.yaml").read_text(encoding="utf-8")
    write(small, "ministry.yaml", ministry + "sharing:\n  departments:\n    health: https://nhc.example.cn\n")
    assert "only provinces" in find(problems_of(small), "ministry.yaml", "sharing").reason


def test_a_province_with_departments_is_a_usable_spec(small):
    write(small, "tianjin.yaml", TIANJIN + "sharing:\n  departments:\n    public_security: https://gat.tj.example.cn\n")
    tianjin = load_catalog(small).resolve("tianjin")
    assert str(tianjin.sharing.departments["public_security"]).startswith("https://gat.tj.example.cn")
    assert len({tianjin, load_catalog(small).resolve("tianjin")}) == 1  # hashable, equal specs hash alike


def test_a_provinces_mqtt_broker_is_an_mqtt_url_without_credentials_and_only_for_provinces(small):
    write(small, "tianjin.yaml", TIANJIN + "equipment:\n  mqtt: mqtts://broker.tj.example.cn:8883\n")
    assert load_catalog(small).resolve("tianjin").equipment.mqtt == "mqtts://broker.tj.example.cn:8883"
    # device credentials travel in the messages: in clear text only on loopback
    write(small, "tianjin.yaml", TIANJIN + "equipment:\n  mqtt: mqtt://broker.tj.example.cn:1883\n")
    assert "only mqtts://" in find(problems_of(small), "tianjin.yaml", "equipment.mqtt").reason
    write(small, "tianjin.yaml", TIANJIN + "equipment:\n  mqtt: mqtt://127.0.0.1:1883\n")
    assert load_catalog(small).resolve("tianjin").equipment.mqtt == "mqtt://127.0.0.1:1883"
    for wrong in ("http://broker.tj.example.cn", "mqtts://user:secret@broker.tj.example.cn", "mqtts://b/path"):
        write(small, "tianjin.yaml", TIANJIN + f"equipment:\n  mqtt: {wrong}\n")
        assert "mqtts?://" in find(problems_of(small), "tianjin.yaml", "equipment.mqtt").reason, wrong
    write(small, "tianjin.yaml", TIANJIN)
    ministry = (small / "ministry.yaml").read_text(encoding="utf-8")
    write(small, "ministry.yaml", ministry + "equipment:\n  mqtt: mqtts://broker.example.cn\n")
    assert "only provinces have devices" in find(problems_of(small), "ministry.yaml", "equipment").reason


def test_yaml_syntax_error_gives_position(small):
    write(small, "tianjin.yaml", TIANJIN + "exchange: [1, 2\n")
    [problem] = problems_of(small)
    assert problem.file == "tianjin.yaml"
    assert problem.field.startswith("line ")
    assert "YAML syntax error" in problem.reason


def test_duplicate_yaml_key(small):
    write(small, "tianjin.yaml", TIANJIN + "pilot: true\npilot: false\n")
    problem = find(problems_of(small), "tianjin.yaml", "pilot")
    assert "duplicate key" in problem.reason


def test_file_name_must_match_slug(small):
    (small / "tianjin.yaml").rename(small / "tj.yaml")
    problem = find(problems_of(small), "tj.yaml", "slug")
    assert problem.reason == "file must be named tianjin.yaml"


def test_slug_must_match_code(small):
    # 山西 Shanxi is 140000; 陕西 Shaanxi is 610000: a swap must not pass
    write(small, "shanxi.yaml", 'code: "610000"\nslug: shanxi\nkind: province\nname_zh: 陕西省\nname_en: Shaanxi\n')
    assert find(problems_of(small), "shanxi.yaml", "slug").reason == "must be shaanxi for code 610000"


def test_only_provinces_can_be_pilots(small):
    write(small, "ministry.yaml", (small / "ministry.yaml").read_text(encoding="utf-8") + "pilot: true\n")
    assert find(problems_of(small), "ministry.yaml", "pilot").reason == "only provinces can be pilots"


def test_missing_ministry(small):
    (small / "ministry.yaml").unlink()
    problem = find(problems_of(small), str(small), "kind")
    assert "no tenant has kind ministry" in problem.reason


def test_more_than_one_ministry(small):
    text = (small / "ministry.yaml").read_text(encoding="utf-8")
    write(small, "ministry-2.yaml", text.replace("slug: ministry", "slug: ministry-2"))
    problem = find(problems_of(small), "ministry-2.yaml", "slug")
    assert problem.reason == "the ministry's slug is ministry"
    # even a second ministry file that copies the first one exactly is caught
    write(small, "ministry-2.yaml", text)
    problem = find(problems_of(small), "ministry-2.yaml", "kind")
    assert "more than one ministry" in problem.reason and "ministry.yaml" in problem.reason


def test_all_problems_across_files_are_collected(small):
    write(small, "tianjin.yaml", TIANJIN + "audit_retention_days: 30\nfoo: 1\n")
    write(small, "beijing.yaml", "code: [\n")
    problems = problems_of(small)
    assert {(p.file, p.field.split(" ")[0]) for p in problems} == {
        ("tianjin.yaml", "audit_retention_days"),
        ("tianjin.yaml", "foo"),
        ("beijing.yaml", "line"),
    }


def test_not_a_directory(tmp_path):
    [problem] = problems_of(tmp_path / "missing")
    assert problem.reason == "not a directory"
