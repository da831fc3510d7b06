"""What `fsp backfill` reads: the files provinces have, one archived case per row, streamed.

CSV (UTF-8, or GB18030 as Chinese spreadsheets are often saved), XLSX (openpyxl's read-only mode, row by row)
and JSON Lines. A column mapping file (YAML or TOML) names, for each field of an archived case, the column of
the province's own layout that holds it, values to fill in where the file has none, and value mappings (男 → 1);
common Chinese forms of dates are normalised (2015年3月2日, 2015/3/2, 2015.3.2, 20150302). A row that cannot be
read or whose date is no date is refused here with its line, field and rule; everything else is checked by the
registry with the rules of a declaration.
"""
import codecs
import csv
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import yaml

from registry import messages
from registry.reference.ethnicities import ETHNICITIES

FORMATS = ("csv", "xlsx", "jsonl")
ENCODINGS = ("auto", "utf-8", "gb18030")
_DATES = {"birth_date": date, "death_at": datetime}  # the record's date and time fields
# the words archives use for coded fields; a mapping file adds to them (or overrides them)
DEFAULT_VALUES: dict[str, dict[str, str]] = {
    "sex": {"男": "1", "女": "2", "未知": "0", "未知的性别": "0", "未说明": "9", "未说明的性别": "9"},
    "ethnicity": {name: code for code, name in ETHNICITIES.items()},
    "id_type": {"居民身份证": "resident_id", "身份证": "resident_id", "护照": "passport",
                "港澳居民来往内地通行证": "hk_macao_permit", "台湾居民来往大陆通行证": "taiwan_permit",
                "外国人永久居留身份证": "foreign_permanent_residence", "无": "none"},
    "death_place_type": {"医院": "hospital", "家中": "home", "养老机构": "care_institution",
                         "公共场所": "public_place", "其他": "other"},
    "death_manner": {"正常死亡": "normal", "正常": "normal", "非正常死亡": "abnormal", "非正常": "abnormal"},
    "cause_category": {"疾病": "disease", "意外": "accident", "自杀": "suicide", "他杀": "homicide",
                       "不明": "undetermined", "其他": "other"},
}
_DATE = re.compile(r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2})")
_TIME = re.compile(r"(\d{1,2})\s*[时:：点]\s*(\d{1,2})\s*分?(?:\s*[:：]?\s*(\d{1,2})\s*秒?)?")


class SourceError(Exception):
    """The file or the mapping cannot be read at all (not a row's fault)."""


@dataclass
class Mapping:
    """Record field (dotted for the informant: informant.phone) → the column holding it; constants; values."""

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> "Mapping":
        if path is None:
            return cls()
        try:
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as err:
            raise SourceError(f"cannot read the mapping file {path}: {err}") from None
        if not isinstance(raw, dict) or set(raw) - {"columns", "constants", "values"}:
            raise SourceError(f"{path}: a mapping has the sections columns, constants and values only")
        sections = {name: raw.get(name) or {} for name in ("columns", "constants", "values")}
        if not all(isinstance(section, dict) for section in sections.values()) or not all(
                isinstance(words, dict) for words in sections["values"].values()):
            raise SourceError(f"{path}: columns, constants and each field of values are tables (name: value)")
        return cls(columns={k: str(v) for k, v in sections["columns"].items()},
                   constants={k: str(v) for k, v in sections["constants"].items()},
                   values={k: {str(a): str(b) for a, b in v.items()} for k, v in sections["values"].items()})

    def words(self, name: str) -> dict[str, str]:
        return {**DEFAULT_VALUES.get(name, {}), **self.values.get(name, {})}


@dataclass
class Row:
    """One row of the file: its line (or spreadsheet row) number and the record, or why it cannot be read."""

    line: int
    record: dict | None = None
    errors: list[dict] = field(default_factory=list)


def format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    kind = {"csv": "csv", "txt": "csv", "xlsx": "xlsx", "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl"}.get(suffix)
    if kind is None:
        raise SourceError(f"{path.name}: not a .csv, .xlsx or .jsonl file")
    return kind


def rows(path: Path, mapping: Mapping, *, encoding: str = "auto") -> Iterator[Row]:
    """The file's rows as records, one at a time (memory stays flat whatever the file's size)."""
    kind = format_of(path)
    if kind == "jsonl":
        yield from _json_lines(path, mapping, _encoding(path, encoding))
        return
    raw = _csv_rows(path, _encoding(path, encoding)) if kind == "csv" else _xlsx_rows(path)
    header = None
    for line, cells in raw:
        if header is None:
            header = [str(cell).strip() if cell is not None else "" for cell in cells]
            continue
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        yield convert(line, dict(zip(header, cells)), mapping)


def total_rows(path: Path) -> int | None:
    """How many rows the file has (for progress), cheaply: newlines, or the sheet's dimension."""
    if format_of(path) == "xlsx":
        from openpyxl import load_workbook
        workbook = load_workbook(path, read_only=True)
        try:
            return max((workbook.active.max_row or 1) - 1, 0)
        finally:
            workbook.close()
    with path.open("rb") as binary:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: binary.read(1 << 20), b""))
    return max(lines - 1, 0) if format_of(path) == "csv" else lines  # a CSV's header is no row


def convert(line: int, cells: dict, mapping: Mapping) -> Row:
    """A row of named cells as an archived case's record (the mapping's columns, or the fields' own names)."""
    columns = mapping.columns or {name: name for name in cells}
    record: dict = {}
    errors = []
    for name, value in [*((n, cells.get(c)) for n, c in columns.items()), *mapping.constants.items()]:
        value = _text(value)
        if value is None or (name in mapping.constants and _get(record, name) is not None):
            continue
        value = mapping.words(name).get(value, value)
        if name in _DATES:
            value, problem = _normalised(name, value)
            if problem:
                errors.append(problem)
                continue
        _set(record, name, value)
    if errors:
        return Row(line, errors=errors)
    return Row(line, record=record)


def problem(field_name: str, rule: str, **params) -> dict:
    """A refusal of this reader, worded in Chinese from the registry's catalog (field, rule, message)."""
    return {"field": field_name, "rule": rule,
            "message": messages.message(rule, field_name, language=messages.ZH, fallback=rule, params=params)}


def _text(value) -> str | date | None:
    """A cell as text (dates stay dates); numbers a spreadsheet made of ID numbers lose nothing."""
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _normalised(name: str, value) -> tuple[object, dict | None]:
    """An ISO date (birth_date) or a time in China Standard Time (death_at), or the refusal of the value."""
    if isinstance(value, datetime):
        value_date, value_time = value.date(), value.time()
    elif isinstance(value, date):
        value_date, value_time = value, None
    elif "T" in value and name == "death_at":
        return value, None  # already ISO 8601: the registry checks it
    else:
        found = _DATE.match(value)
        try:
            if not found:
                raise ValueError
            year, month, day = (int(g) for g in (found.groups()[:3] if found.group(1) else found.groups()[3:]))
            value_date = date(year, month, day)
            rest = value[found.end():].strip()
            clock = _TIME.fullmatch(rest) if rest else None
            if rest and not clock:
                raise ValueError
            value_time = time(*(int(g or 0) for g in clock.groups())) if clock else None
        except ValueError:
            return None, problem(name, "date_format", value=value)
    if _DATES[name] is date:
        return value_date.isoformat(), None
    # a death recorded with its day only is taken at 00:00 China Standard Time
    return datetime.combine(value_date, value_time or time()).isoformat() + "+08:00", None


def _get(record: dict, name: str):
    head, _, rest = name.partition(".")
    return record.get(head, {}).get(rest) if rest else record.get(head)


def _set(record: dict, name: str, value) -> None:
    head, _, rest = name.partition(".")
    if rest:
        record.setdefault(head, {})[rest] = value
    else:
        record[head] = value


def _encoding(path: Path, chosen: str) -> str:
    """UTF-8 (a BOM is skipped) unless the file's first megabyte is not UTF-8: then GB18030."""
    if chosen != "auto":
        return "utf-8-sig" if chosen == "utf-8" else chosen
    with path.open("rb") as binary:
        head = binary.read(1 << 20)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list]]:
    with path.open(encoding=encoding, newline="") as text:
        reader = csv.reader(text)
        try:
            for cells in reader:
                yield reader.line_num, cells
        except UnicodeDecodeError as err:
            raise SourceError(f"{path.name} near line {reader.line_num + 1} is not {encoding} text "
                              f"(byte {err.start} of a block); choose --encoding") from None


def _xlsx_rows(path: Path) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook  # only for spreadsheets: it is slow to import
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a damaged or foreign file
        raise SourceError(f"{path.name} is not a readable XLSX workbook ({type(err).__name__})") from None
    try:
        yield from enumerate(workbook.active.iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _json_lines(path: Path, mapping: Mapping, encoding: str) -> Iterator[Row]:
    with path.open(encoding=encoding) as text:
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                yield Row(number, errors=[problem("line", "json_line")])
                continue
            if not isinstance(record, dict):
                yield Row(number, errors=[problem("line", "json_line")])
                continue
            if mapping.columns or mapping.constants or mapping.values:
                informant = record.pop("informant", None)
                informant = informant if isinstance(informant, dict) else {}
                yield convert(number, {**record, **{f"informant.{k}": v for k, v in informant.items()}}, mapping)
            else:
                yield Row(number, record=record)
