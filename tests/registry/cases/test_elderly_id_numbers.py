"""ID numbers of people born before their county code existed: the prefix is where the number was issued."""
import uuid
from datetime import date

import pytest
from pydantic_core import PydanticCustomError

from factories import case_payload, create_institution
from factories import resident_id as make_id
from registry.validators import resident_id

# real-shaped numbers of the deceased of the pilot provinces: county codes of 1983 and 1997, births 1920s–1950s
ELDERLY = [
    ("370102", date(1931, 3, 1)),   # 济南市历下区, code since 1983
    ("370602", date(1924, 11, 30)),  # 烟台市芝罘区, since 1983
    ("530102", date(1925, 1, 1)),   # 昆明市五华区, since 1983
    ("530402", date(1948, 7, 15)),  # 玉溪市红塔区, since 1997
    ("610103", date(1945, 8, 15)),  # 西安市碑林区, since 1983
    ("610402", date(1952, 2, 29)),  # 咸阳市秦都区, since 1983 (a leap day)
    ("120101", date(1929, 6, 1)),   # 天津市和平区
    ("110105", date(1920, 1, 1)),   # 北京市朝阳区
]


@pytest.mark.parametrize(("region", "birth"), ELDERLY)
def test_county_codes_newer_than_the_birth_are_accepted(region, birth):
    number = make_id(region=region, birth=birth, seq=17)
    assert resident_id(number) == number


@pytest.mark.parametrize(("number", "rule"), [
    (make_id(region="370102", birth=date(1931, 3, 1), seq=17)[:-1] + "0", "id_checksum"),  # a wrong check digit
    ("37010219310301001", "id_checksum"),  # 17 characters
    (make_id(region="999999", birth=date(1931, 3, 1), seq=17), "id_region"),  # no such county, ever
    ("370102193102300019", "id_birth_date"),  # 30 February
    (make_id(region="370102", birth=date(1850, 1, 1), seq=17), "id_birth_date"),
])
def test_checksum_birth_date_and_region_are_still_checked(number, rule):
    with pytest.raises(PydanticCustomError) as refused:
        resident_id(number)
    assert refused.value.type == rule


def test_a_case_of_a_person_born_before_the_code_is_declared(client, mint):
    institution = create_institution(client, mint("provincial-admin"))
    registrar = mint("registrar", institution_id=uuid.UUID(institution["id"]))
    birth = date(1931, 3, 1)
    payload = case_payload(institution["id"], id_number=make_id(region="370102", birth=birth, seq=5),
                           birth_date=birth.isoformat(), household_region="370102")
    response = client.post("/api/v1/cases", json=payload, headers=registrar)
    assert response.status_code == 201, response.text



def test_a_number_in_full_width_digits_is_compacted_to_the_same_one():
    number = make_id(birth=date(1920, 1, 1), seq=1)
    full_width = number.translate({ord(str(d)): 0xFF10 + d for d in range(10)})  # as some input methods type it

    assert resident_id(f" {full_width} ") == number


def test_a_plain_number_with_a_lower_case_check_letter_is_upper_cased():
    number = next(n for n in (make_id(birth=date(1931, 3, 1), seq=s) for s in range(40)) if n.endswith("X"))

    assert resident_id(number.lower()) == number
