"""The tenant catalog: one YAML file per tenant, loaded and checked as a whole."""

import difflib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from tenants.spec import TenantSpec
from tenants.yamlfile import YamlFileError, read_mapping
from tenants.yearbook import YEARBOOK_FILE, YearbookError, YearbookFigure, read_yearbook

# the packaged catalog sits beside this module (tenants/catalog/*.yaml)
DEFAULT_CATALOG_DIR = Path(__file__).with_name("catalog")


@dataclass(frozen=True)
class CatalogProblem:
    """One thing wrong with a catalog: which file, which field (dotted path), why."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


class CatalogError(Exception):
    """The catalog cannot be used; `problems` lists everything found, not just the first."""

    def __init__(self, source: Path, problems: list[CatalogProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid tenant catalog {source}: {len(problems)} problem(s)\n{lines}")


class UnknownTenantError(LookupError):
    """No tenant has this slug or code."""

    def __init__(self, ref: str, suggestions: list[str]) -> None:
        self.ref = ref
        self.suggestions = suggestions
        hint = f"did you mean: {', '.join(suggestions)}?" if suggestions else "expected a slug or a 6-digit code"
        super().__init__(f"unknown tenant {ref!r}; {hint}")

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Catalog:
    """All tenants: the ministry first, then provinces by code; and the yearbook figures it cites, if any."""

    tenants: tuple[TenantSpec, ...]
    yearbook: tuple[YearbookFigure, ...] = ()

    def __post_init__(self) -> None:
        ordered = sorted(self.tenants, key=lambda t: (t.kind != "ministry", t.code))
        object.__setattr__(self, "tenants", tuple(ordered))

    @property
    def ministry(self) -> TenantSpec:
        """The national platform's tenant."""
        return next(t for t in self.tenants if t.kind == "ministry")

    @property
    def provinces(self) -> tuple[TenantSpec, ...]:
        """Provincial tenants (incl. XPCC), by code."""
        return tuple(t for t in self.tenants if t.kind == "province")

    @property
    def pilots(self) -> tuple[TenantSpec, ...]:
        """Provinces in the pilot programme, by code."""
        return tuple(t for t in self.tenants if t.pilot)

    def resolve(self, ref: str) -> TenantSpec:
        """The tenant with this slug (any case) or code; UnknownTenantError with near matches otherwise."""
        wanted = ref.strip().lower()
        for tenant in self.tenants:
            if wanted in (tenant.slug, tenant.code):
                return tenant
        raise UnknownTenantError(ref, self._near(wanted))

    def _near(self, wanted: str) -> list[str]:
        # match against every way people name a tenant, but always suggest the slug
        slug_by_label: dict[str, str] = {}
        for t in self.tenants:
            for label in (t.slug, t.code, t.name_zh, t.name_en.lower()):
                slug_by_label.setdefault(label, t.slug)
        # 0.75 keeps one-letter slips (bejing) and drops merely similar names (zhejiang)
        matches = difflib.get_close_matches(wanted, list(slug_by_label), n=5, cutoff=0.75)
        return list(dict.fromkeys(slug_by_label[m] for m in matches))[:3]


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and check every `<slug>.yaml` in `path` (default: the packaged catalog)."""
    source = DEFAULT_CATALOG_DIR if path is None else Path(path)
    if not source.is_dir():
        raise CatalogError(source, [CatalogProblem(str(source), "-", "not a directory")])
    problems: list[CatalogProblem] = []
    loaded: list[tuple[str, TenantSpec]] = []
    for file in sorted(source.glob("*.yaml")):
        spec = _load_file(file, problems)
        if spec is not None:
            loaded.append((file.name, spec))
    problems += _cross_file_problems(source, loaded)
    yearbook = _load_yearbook(source, problems)
    if problems:
        raise CatalogError(source, problems)
    return Catalog(tuple(spec for _, spec in loaded), yearbook)


def _load_yearbook(source: Path, problems: list[CatalogProblem]) -> tuple[YearbookFigure, ...]:
    """The catalog's yearbook table (`yearbook.csv`, optional): population and crude death rate it can cite."""
    path = source / YEARBOOK_FILE
    if not path.is_file():
        return ()
    try:
        return read_yearbook(path)
    except YearbookError as err:
        problems += [CatalogProblem(YEARBOOK_FILE, f"line {p.line}: {p.field}", p.reason) for p in err.problems]
        return ()


def _load_file(file: Path, problems: list[CatalogProblem]) -> TenantSpec | None:
    """One tenant file as a spec, or None after adding its problems."""
    try:
        data = read_mapping(file)
    except YamlFileError as err:
        problems.append(CatalogProblem(file.name, err.where, err.reason))
        return None
    try:
        spec = TenantSpec.model_validate(data)
    except ValidationError as err:
        problems += [CatalogProblem(file.name, *_describe(e)) for e in err.errors()]
        return None
    if file.stem != spec.slug:
        problems.append(CatalogProblem(file.name, "slug", f"file must be named {spec.slug}.yaml"))
    return spec


def _describe(error: dict) -> tuple[str, str]:
    """(dotted field, reason) for one pydantic error, phrased for people editing YAML."""
    loc = error["loc"]
    field = ".".join(str(part) for part in loc) or "-"
    if error["type"] == "extra_forbidden":
        return field, _unknown_key(loc)
    if error["type"] == "missing":
        return field, "required"
    if error["type"] in ("tenant_rule", "model_type"):
        return field, error["msg"]
    return field, f"{error['msg']} (got {error['input']!r})"


def _unknown_key(loc: tuple) -> str:
    """Reason for an unknown key, with a spelling suggestion among the allowed ones."""
    model = TenantSpec
    for part in loc[:-1]:
        model = model.model_fields[part].annotation
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"did you mean {close[0]}?" if close else f"allowed: {', '.join(allowed)}"
    return f"unknown key; {hint}"


def _cross_file_problems(source: Path, loaded: list[tuple[str, TenantSpec]]) -> list[CatalogProblem]:
    """Duplicate codes or slugs, and anything but exactly one ministry."""
    problems: list[CatalogProblem] = []
    # files named after their slug claim a value first, so a stray copy is the one blamed
    loaded = sorted(loaded, key=lambda item: (Path(item[0]).stem != item[1].slug, item[0]))
    first_by: dict[tuple[str, str], str] = {}
    for file, spec in loaded:
        for field in ("code", "slug"):
            value = getattr(spec, field)
            other = first_by.setdefault((field, value), file)
            if other != file:
                problems.append(CatalogProblem(file, field, f"duplicate {field} {value}: also in {other}"))
    ministries = [file for file, spec in loaded if spec.kind == "ministry"]
    if not ministries:
        problems.append(CatalogProblem(str(source), "kind", "no tenant has kind ministry (need exactly one)"))
    for file in ministries[1:]:
        problems.append(CatalogProblem(file, "kind", f"more than one ministry: also {ministries[0]}"))
    return problems
