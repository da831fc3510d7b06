"""One error shape for every failure: {"status", "title", "errors": [{"field", "rule", "message"}]}."""
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from registry import messages


def encodable(text: str) -> str:
    """Text that echoes input (a field name, a refused value) with unpaired surrogates written as escapes:
    neither the JSON answer nor the audit chain can encode them."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class Problem:
    field: str
    rule: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.field, self.message = encodable(self.field), encodable(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "rule": self.rule, "message": self.message, **self.extra}


class DomainError(Exception):
    """A refusal a service raises; the app turns it into the JSON error shape and an audit entry."""

    status = 400
    title = "bad request"

    def __init__(self, field: str, rule: str, message: str, **extra: Any):
        super().__init__(message)
        self.problems = [Problem(field, rule, message, extra)]


class Invalid(DomainError):
    status, title = 422, "invalid input"


class NotFound(DomainError):
    status, title = 404, "not found"

    def __init__(self, field: str, message: str, **extra: Any):
        super().__init__(field, "exists", message, **extra)


class Conflict(DomainError):
    status, title = 409, "conflict"


class Gone(DomainError):
    """Removed on purpose and kept for its retention period: not to be shown again."""
    status, title = 410, "gone"


class Unauthorized(DomainError):
    status, title = 401, "unauthorized"

    def __init__(self, message: str):
        super().__init__("authorization", "bearer_token", message)


class Forbidden(DomainError):
    status, title = 403, "forbidden"


class ErrorItem(BaseModel):
    """One refused field: which, by what rule, and why; some rules add details (e.g. `existing_case_id`)."""
    model_config = ConfigDict(extra="allow")

    field: str
    rule: str
    message: str


class ErrorBody(BaseModel):
    """The one error shape of every refusal."""
    status: int
    title: str
    errors: list[ErrorItem]


def body(status: int, title: str, problems: list[dict[str, Any]]) -> dict[str, Any]:
    return {"status": status, "title": title, "errors": problems}


def problem_from_pydantic(error: dict) -> dict:
    """One pydantic error in the one error shape: the field path (without body/query/path), the rule, the message."""
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    if error.get("type") == "json_invalid":
        location = []  # the location is a character offset, not a field
    field = ".".join(location + [str(error.get("ctx", {}).get("field", ""))]).strip(".") or "body"
    message = error.get("msg", "invalid value")
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    # the rule's parameters (a length, the allowed values) word the message; `localize` drops them
    return {"field": encodable(field), "rule": error.get("type", "invalid"), "message": encodable(message),
            "_params": {k: v for k, v in error.get("ctx", {}).items() if k != "field"}}


def localize(problem: dict[str, Any], language: str) -> dict[str, Any]:
    """The problem with its message in the reader's language (registry.messages); field and rule unchanged."""
    problem = dict(problem)
    params = {**problem.pop("_params", {}),
              **{k: v for k, v in problem.items() if k not in ("field", "rule", "message")}}
    problem["message"] = messages.message(str(problem["rule"]), str(problem["field"]), language=language,
                                          fallback=str(problem["message"]), params=params)
    return problem
