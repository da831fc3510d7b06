"""The province's policies, service guides and notices (政务公开): a list by category with a title search, and
each document. Only published ones show; a draft or a withdrawn one is a page that is not there."""
import uuid
from dataclasses import dataclass

from sqlmodel import Session
from starlette.datastructures import QueryParams
from starlette.requests import Request

from portal.directory import SearchQuery, check_page, check_words, refuse
from portal.pages import not_found, province_of, tenant_engine
from portal.render import Page, page
from registry.errors import NotFound
from registry.publications import service
from registry.publications.models import PublicationCategory, PublicationStatus

PAGE_SIZE = 20
_CATEGORIES = frozenset(category.value for category in PublicationCategory)


@dataclass
class PoliciesQuery(SearchQuery):
    category: str = ""

    def filters(self) -> dict[str, str]:
        return {"category": self.category, "q": self.q}

    def category_link(self, category: str) -> str:
        """The list of another category: the words searched are kept, the page starts again."""
        return str(QueryParams({name: value for name, value in (("category", category), ("q", self.q)) if value}))


def read_query(params: QueryParams) -> PoliciesQuery:
    query = PoliciesQuery(q=params.get("q", "").strip(), category=params.get("category", ""),
                          page_text=params.get("page", "").strip())
    if query.category and query.category not in _CATEGORIES:
        refuse(query, "category", "choice")
    check_words(query, form="policies")
    check_page(query, form="policies")
    return query


def policies(request: Request) -> Page:
    """The published documents, newest first: by category (links, no JavaScript), searched by title, 20 a page."""
    query = read_query(request.query_params)
    rows, total = [], 0
    if not query.errors:
        with Session(tenant_engine(request)) as session:
            rows, total = service.list_publications(
                session, status=PublicationStatus.published,
                category=PublicationCategory(query.category) if query.category else None, q=query.q or None,
                offset=(query.page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return page(request, "policies.html", status_code=400 if query.errors else 200, province=province_of(request),
                query=query, categories=list(PublicationCategory), publications=rows, total=total,
                has_next=not query.errors and query.page * PAGE_SIZE < total)


def policy(request: Request) -> Page:
    """One published document: its facts (文号, 发布机关, dates) and its paragraphs."""
    try:
        publication_id = uuid.UUID(request.path_params["publication_id"])
    except ValueError:
        return not_found(request)
    with Session(tenant_engine(request)) as session:
        try:
            found = service.get_published(session, publication_id=publication_id)
        except NotFound:
            return not_found(request)
    return page(request, "policy.html", province=province_of(request), publication=found,
                revised=found.published_at is not None and found.updated_at > found.published_at)

