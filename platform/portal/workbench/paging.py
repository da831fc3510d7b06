"""Pages of a list: which one is asked for (a bad number is page 1), and the links to its neighbours."""
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from starlette.requests import Request

PAGE_SIZE = 20


@dataclass(frozen=True)
class Paging:
    page: int
    query: dict[str, str]
    size: int = PAGE_SIZE
    pages: int = 1

    @classmethod
    def of(cls, request: Request, *, size: int = PAGE_SIZE) -> "Paging":
        raw = request.query_params.get("page", "1")
        page = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return cls(page, query, size)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def of_total(self, total: int) -> "Paging":
        return replace(self, pages=max(1, -(-total // self.size)))

    def href(self, page: int) -> str:
        return "?" + urlencode({**self.query, "page": page})
