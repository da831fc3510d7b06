"""The yearbook table behind registration completeness: the catalog's cited rows, and a bad table refused whole."""
import shutil
from decimal import Decimal

import pytest

from tenants import DEFAULT_CATALOG_DIR, CatalogError, load_catalog
from tenants.yearbook import YearbookError, parse_yearbook

HEADING = "province_code,year,population_10k,death_rate_permille,source\n"


def test_the_catalog_cites_the_1999_table_for_every_mainland_province():
    figures = load_catalog().yearbook
    assert len(figures) == 31 and {f.year for f in figures} == {1999}
    beijing = next(f for f in figures if f.province_code == "110000")
    # 1,257 万人 × 5.60 ‰ as printed in table 4-3 of the 2000 edition
    assert (beijing.population, beijing.death_rate_permille, beijing.expected_deaths) == (12_570_000, Decimal("5.60"),
                                                                                           70_392)
    assert all(f.source.startswith("中国统计年鉴2000") for f in figures)
    assert "660000" not in {f.province_code for f in figures}  # the XPCC is within Xinjiang's figure


def test_expected_deaths_round_to_the_nearest_person():
    (figure,) = parse_yearbook(HEADING + "530000,2022,4693,8.16,中国统计年鉴 表2-9\n", source="t")
    assert figure.expected_deaths == 382_949  # 46,930,000 × 0.00816 = 382,948.8


def test_every_problem_of_a_table_is_listed_and_nothing_is_taken():
    text = HEADING + ("110000,2024,2183,5.8,年鉴\n"
                      "990000,2024,100,5.0,年鉴\n"
                      "120000,20x4,-3,5.123,\n"
                      "110000,2024,2183,5.8,年鉴\n")
    with pytest.raises(YearbookError) as raised:
        parse_yearbook(text, source="t.csv")
    assert [(p.line, p.field) for p in raised.value.problems] == [
        (3, "province_code"), (4, "year"), (4, "population_10k"), (4, "death_rate_permille"), (4, "source"),
        (5, "year")]
    with pytest.raises(YearbookError, match="heading"):
        parse_yearbook("code,year\n", source="t.csv")


def test_a_bad_yearbook_table_makes_the_catalog_invalid(tmp_path):
    catalog = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, catalog)
    (catalog / "yearbook.csv").write_text(HEADING + "110000,2024,2183,0,年鉴\n", encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog)
    assert [(p.file, p.field) for p in raised.value.problems] == [("yearbook.csv", "line 2: death_rate_permille")]
