"""The province's red and black lists (红黑名单) of institutions, as the year's credit evaluation published them:
public facts of each institution (name, unified social credit code, score, why it is listed). No sign-in."""
from sqlmodel import Session
from starlette.requests import Request

from portal.pages import china_today, province_of, tenant_engine
from portal.render import Page, page
from registry.credit import evaluation, rules

YEARS_SHOWN = 3  # this year and the two before, as links


def credit_lists(request: Request) -> Page:
    """The lists of `?year=` (this year by default); a year that is not one is a 400 page saying so."""
    this_year = china_today().year
    raw = request.query_params.get("year", "").strip()
    year = int(raw) if raw.isdigit() and 2000 <= int(raw) <= this_year else None
    if raw and year is None:
        return page(request, "credit_lists.html", status_code=400, province=province_of(request), year=None,
                    lists=None, years=range(this_year, this_year - YEARS_SHOWN, -1), bad_year=raw)
    year = year or this_year
    with Session(tenant_engine(request)) as session:
        found = evaluation.lists(session, year=year)
    return page(request, "credit_lists.html", province=province_of(request), year=year, lists=found,
                years=range(this_year, this_year - YEARS_SHOWN, -1), bad_year=None, thresholds=rules.shipped().lists)
