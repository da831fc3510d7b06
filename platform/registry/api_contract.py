"""What the OpenAPI document promises: every operation lists the refusals it can answer, in the one error shape;
a 405 lists the methods of its path."""
from fastapi import FastAPI, Request
from starlette.routing import compile_path

from registry import errors

# what each refusal means, for the API documentation
STATUS_MEANINGS = {
    401: "No valid bearer token",
    403: "The token's role or institution does not allow this",
    404: "No such resource, or not one the caller may see",
    409: "Conflicts with the current state (a duplicate, a concurrent change, a wrong status)",
    413: "Request body too large",
    422: "Invalid input: each error names its field and rule",
}


def allowed_methods(request: Request, told: str) -> str:
    """The methods of the request's path: the router names only those of the first route it tried.

    The most literal templates win: /cases/imports is that route, not /cases/{case_id} with case_id "imports"."""
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))  # under `fsp serve`, /beijing/...
    matching = [(template.count("{"), operations) for template, operations in request.app.openapi()["paths"].items()
                if compile_path(template)[0].match(path)]
    fewest = min((params for params, _ in matching), default=0)
    allowed = {method.upper() for params, operations in matching if params == fewest for method in operations}
    return ", ".join(sorted(allowed)) or told


_WRITES = frozenset({"post", "put", "patch", "delete"})
_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def document_refusals(app: FastAPI) -> None:
    """Every operation declares, in the one error shape, the refusals it can answer."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            _declare_refusals(generate())
        return app.openapi_schema

    app.openapi = openapi


def _declare_refusals(schema: dict) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_body = errors.ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_body.pop("$defs", {}), ErrorBody=error_body)
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            parameters = {parameter["in"] for parameter in operation.get("parameters", [])}
            statuses = set()
            if "path" in parameters:
                statuses.add(404)
            if operation.get("security"):
                statuses |= {401, 403}
            if method in _WRITES:
                statuses |= {409, 413, 422}  # a write may meet a concurrent one; any request may carry a body
            elif parameters:
                statuses.add(422)
            responses = operation["responses"]
            for status in statuses:
                responses.setdefault(str(status), {"description": STATUS_MEANINGS[status]})
            for status, response in responses.items():
                if status.startswith("4"):
                    response["content"] = _ERROR_BODY  # FastAPI's own 422 shape is not the one answered
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
