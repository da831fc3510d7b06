"""The double's check of admin request bodies against Keycloak's published admin API document."""
import pytest

from kc_double.schema import AdminApi


@pytest.fixture(scope="module")
def api():
    return AdminApi()


def test_nested_fields_are_checked_by_their_schema(api):
    client = {"clientId": "registry-api", "publicClient": False,
              "protocolMappers": [{"name": "aud", "protocolMapper": "oidc-audience-mapper",
                                   "config": {"access.token.claim": True}}],
              "attributes": {"pkce.code.challenge.method": "S256"}}
    assert api.check_body("POST", "/fsp-beijing/clients", client) == [
        "body.protocolMappers[0].config.access.token.claim: expected a string, got bool"]
    client["protocolMappers"][0]["config"]["access.token.claim"] = "true"
    assert api.check_body("POST", "/fsp-beijing/clients", client) == []


def test_types_ranges_and_unknown_fields(api):
    user = {"username": "zhang.wei", "enabled": "yes", "notBefore": 2**40, "attributes": {"institution_id": "x"},
            "credentials": [{"type": "password", "value": "s", "temporary": True, "colour": "red"}]}
    assert sorted(api.check_body("POST", "/r/users", user)) == [
        "body.attributes.institution_id: expected an array, got str",
        "body.credentials[0].colour: unrecognized field",
        "body.enabled: expected a boolean, got str",
        "body.notBefore: 1099511627776 is out of the int32 range",
    ]


def test_role_mappings_take_a_list_and_operations_must_exist(api):
    assert api.check_body("POST", "/r/users/u1/role-mappings/realm", [{"id": "1", "name": "registrar"}]) == []
    assert api.check_body("POST", "/r/users/u1/role-mappings/realm", [{"name": 7}]) == [
        "body[0].name: expected a string, got int"]
    assert api.check_body("POST", "/r/users/u1/promote", {}) == [
        "POST /r/users/u1/promote: no such operation in the admin API"]
    assert api.find("GET", "/r/users/count") == (True, None)  # the literal path wins over /users/{id}
