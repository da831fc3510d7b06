"""Admin request bodies checked against Keycloak's published admin API (OpenAPI 3.0, 23.0.7).

A small validator for the JSON-schema subset that document uses: $ref, type, properties, additionalProperties,
items, enum, int32/int64 ranges. Unknown properties are errors, as they are for Keycloak (Jackson refuses an
"Unrecognized field"), so a misspelt field name fails here instead of being silently ignored.
"""
import json
import re
from pathlib import Path

# kept in the repository with its licence (Apache-2.0): the tests need nothing outside it
SPEC_PATH = Path(__file__).resolve().parent / "reference" / "keycloak-admin-openapi-23.0.7.json"
REF = "#/components/schemas/"
_INT_RANGES = {"int32": (-2**31, 2**31 - 1), "int64": (-2**63, 2**63 - 1)}
# the generator lost List<RoleRepresentation> on these endpoints: Keycloak takes a JSON array of the schema
_LIST_BODIES = re.compile(r"/(role-mappings|scope-mappings|composites)(/|$)")
# realm import: the document says "[file]" (a string); the body Keycloak reads is a RealmRepresentation
_REALM_IMPORT = {"$ref": REF + "RealmRepresentation"}


class AdminApi:
    """The operations of the admin API (paths below /admin/realms) and the schema of each request body."""

    def __init__(self, spec_path: Path = SPEC_PATH):
        spec = json.loads(spec_path.read_text())
        self.schemas: dict = spec["components"]["schemas"]
        self._operations: list[tuple[str, re.Pattern, int, dict | None]] = []
        for template, operations in spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template.rstrip("/")) + "/?$")
            literal_segments = sum(1 for part in template.split("/") if part and not part.startswith("{"))
            for method, operation in operations.items():
                if method == "parameters":
                    continue
                content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
                schema = _REALM_IMPORT if template == "/" and method == "post" else content.get("schema")
                self._operations.append((method.upper(), pattern, literal_segments, schema))

    def find(self, method: str, path: str) -> tuple[bool, dict | None]:
        """(known, body schema) of the operation at `path` (relative to /admin/realms)."""
        matches = [(literal, schema) for m, pattern, literal, schema in self._operations
                   if m == method and pattern.match(path or "/")]
        if not matches:
            return False, None
        return True, max(matches, key=lambda match: match[0])[1]

    def check_body(self, method: str, path: str, body: object) -> list[str]:
        """The problems of a request body; an empty list when it conforms (or the operation takes none)."""
        known, schema = self.find(method, path)
        if not known:
            return [f"{method} {path}: no such operation in the admin API"]
        if schema is None:
            return []
        if isinstance(body, list) and "$ref" in schema and _LIST_BODIES.search(path):
            return [problem for i, item in enumerate(body) for problem in self.validate(schema, item, f"body[{i}]")]
        return self.validate(schema, body, "body")

    def validate(self, schema: dict, value: object, where: str) -> list[str]:
        if "$ref" in schema:
            return self.validate(self.schemas[schema["$ref"].removeprefix(REF)], value, where)
        if value is None:
            return []  # every field of a Keycloak representation is a nullable object type
        kind = schema.get("type")
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        if kind == "object" or (kind is None and ("properties" in schema or "additionalProperties" in schema)):
            return self._object(schema, value, where)
        if kind == "array":
            if not isinstance(value, list):
                return [f"{where}: expected an array, got {type(value).__name__}"]
            if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
                return [f"{where}: items must be unique"]
            items = schema.get("items")
            return [p for i, v in enumerate(value) for p in self.validate(items, v, f"{where}[{i}]")] if items else []
        if kind == "string":
            return [] if isinstance(value, str) else [f"{where}: expected a string, got {type(value).__name__}"]
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected a boolean, got {type(value).__name__}"]
        if kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                return [f"{where}: expected an integer, got {type(value).__name__}"]
            low, high = _INT_RANGES.get(schema.get("format", "int64"), _INT_RANGES["int64"])
            return [] if low <= value <= high else [f"{where}: {value} is out of the {schema.get('format')} range"]
        if kind == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else [f"{where}: expected a number, got {type(value).__name__}"]
        return []

    def _object(self, schema: dict, value: object, where: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{where}: expected an object, got {type(value).__name__}"]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", not properties)
        problems = []
        for key, item in value.items():
            if key in properties:
                problems += self.validate(properties[key], item, f"{where}.{key}")
            elif isinstance(extra, dict):
                problems += self.validate(extra, item, f"{where}.{key}")
            elif not extra:
                problems.append(f"{where}.{key}: unrecognized field")
        return problems
