"""The directory's search form: what was asked, what is wrong with it, and the regions one can choose from."""
from dataclasses import dataclass, field

from sqlmodel import Session, select
from starlette.datastructures import QueryParams

from portal import catalog
from portal.render import province_name, region_name
from registry.institutions.models import Institution, InstitutionType

PAGE_SIZE = 20
MAX_PAGE = 10_000
MAX_QUERY_LENGTH = 50  # as the registry's own API accepts
_TYPES = frozenset(kind.value for kind in InstitutionType)
# GB/T 2260 names a municipality's prefecture level by what it holds, not by a place
_UNNAMED_PREFECTURES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class FieldError:
    field: str
    rule: str
    message: str


@dataclass
class SearchQuery:
    """A search form as typed (kept to show it again) and, once checked, the errors beside each field."""
    q: str = ""
    page_text: str = ""
    errors: list[FieldError] = field(default_factory=list)

    @property
    def page(self) -> int:
        return int(self.page_text) if self.page_text else 1

    def error_for(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field == name), None)

    def filters(self) -> dict[str, str]:
        return {"q": self.q}

    def link(self, *, page: int) -> str:
        """The query string of another page of the same search (empty filters left out)."""
        parts = {**self.filters(), "page": str(page) if page > 1 else ""}
        return str(QueryParams({name: value for name, value in parts.items() if value}))


@dataclass
class DirectoryQuery(SearchQuery):
    type: str = ""
    region: str = ""

    def filters(self) -> dict[str, str]:
        return {"q": self.q, "type": self.type, "region": self.region}


def refuse(query: SearchQuery, name: str, rule: str, *, form: str = "directory", **params: object) -> None:
    """An error beside the field, worded for the form (`catalog.FORM_ERRORS`) or as every form words it."""
    wording = catalog.FORM_ERRORS.get((form, name, rule)) or catalog.ERRORS[(name, rule)]
    query.errors.append(FieldError(name, rule, wording.format(**params)))


def check_words(query: SearchQuery, *, form: str) -> None:
    """What every search form checks first: the length of the words searched."""
    if len(query.q) > MAX_QUERY_LENGTH:
        refuse(query, "q", "max_length", form=form, max_length=MAX_QUERY_LENGTH)


def check_page(query: SearchQuery, *, form: str) -> None:
    """What every search form checks last: the page number (not a field of the form)."""
    if query.page_text and not (query.page_text.isascii() and query.page_text.isdigit()
                                and 1 <= int(query.page_text) <= MAX_PAGE):
        refuse(query, "page", "page_number", form=form, max_page=MAX_PAGE)


def read_query(params: QueryParams, region_codes: set[str]) -> DirectoryQuery:
    """The directory's filters from the query string, each refused in place when it is not one we offer."""
    query = DirectoryQuery(q=params.get("q", "").strip(), type=params.get("type", ""),
                           region=params.get("region", ""), page_text=params.get("page", "").strip())
    check_words(query, form="directory")
    if query.type and query.type not in _TYPES:
        refuse(query, "type", "choice")
    if query.region and query.region not in region_codes:
        refuse(query, "region", "choice")
    check_page(query, form="directory")
    return query


@dataclass(frozen=True)
class RegionGroup:
    """A prefecture and the counties in it where institutions are (one group per municipality's districts)."""
    name: str
    regions: list[tuple[str, str]]


def region_groups(session: Session) -> list[RegionGroup]:
    """The regions that have an institution, grouped by prefecture, for the region filter."""
    # the registry's service has no such read: one DISTINCT over an indexed column of its public table
    codes = sorted(session.exec(select(Institution.region_code).distinct()))
    groups: dict[str, RegionGroup] = {}
    for code in codes:
        prefecture = code[:4] + "00"
        if prefecture not in groups:
            name = region_name(prefecture)
            groups[prefecture] = RegionGroup(province_name(code) if name in _UNNAMED_PREFECTURES else name, [])
        group = groups[prefecture]
        group.regions.append((code, region_name(code)))
    return list(groups.values())
