"""Query codes: typed back as people type them, stored only as a digest."""
from registry import query_codes


def test_a_code_reads_in_three_groups_without_ambiguous_characters():
    code = query_codes.new_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4]
    assert not set("".join(groups)) & set("01OIL")
    assert query_codes.well_formed(code)


def test_codes_differ_and_typing_variants_give_the_same_digest():
    codes = {query_codes.new_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    typed = " " + code.replace("-", " ").lower() + " "
    assert query_codes.digest(typed) == query_codes.digest(code)
    assert code.replace("-", "") not in query_codes.digest(code).upper()


def test_malformed_codes_are_told_apart_before_any_lookup():
    assert not query_codes.well_formed("ABCD-EFGH-JKM")  # one short
    assert not query_codes.well_formed("ABCD-EFGH-JKM0")  # 0 is never drawn
    assert not query_codes.well_formed("")
