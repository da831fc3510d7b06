"""A submitted form: its values kept as typed, the CSRF check, and the registry's refusals placed by field."""
from dataclasses import dataclass, field

from starlette.requests import Request

from portal import catalog
from portal.workbench.registry_api import Answer
from portal.workbench.staff import Staff, csrf_ok


class CsrfRefused(Exception):
    """A form without this session's token: made by another site or an old page; nothing is done."""


@dataclass
class Form:
    values: dict[str, str] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def error_for(self, name: str) -> str | None:
        for error in self.errors:
            if error["field"] == name:
                return error["message"]
        return None

    def refuse(self, name: str, message: str) -> None:
        self.errors.append({"field": name, "message": message})

    def take(self, answer: Answer, *, fields: dict[str, str] | None = None) -> None:
        """The registry's refusals, each beside its form field (`fields` maps API field names to form names);
        a refusal of no field on the form goes to the summary only."""
        fields = fields or {}
        for problem in answer.problems or [{"field": "", "message": answer.title or catalog.STAFF["api_failed"]}]:
            name = str(problem.get("field", ""))
            self.errors.append({"field": fields.get(name, name), "message": problem.get("message", "")})

    @property
    def linked_fields(self) -> set[str]:
        return set(self.values)


async def read(request: Request, staff: Staff) -> Form:
    """The posted fields, trimmed; raises CsrfRefused unless the form carries this session's token."""
    posted = await request.form()
    values = {key: str(value).strip() for key, value in posted.items() if isinstance(value, str)}
    if not csrf_ok(staff.secret, values.pop("csrf_token", None)):
        raise CsrfRefused()
    return Form(values)


def optional(value: str) -> str | None:
    """An empty form field is an absent value for the API."""
    return value or None
