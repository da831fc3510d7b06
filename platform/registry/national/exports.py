"""Statistics tables as files for the ministry's analysts: CSV (UTF-8 with a BOM, which Excel needs to read
Chinese) and XLSX (openpyxl, written row by row), with Chinese column headings and area names."""
import codecs
import csv
import io
import re

from openpyxl import Workbook

from registry import regions

HEADINGS = ("省份", "地区代码", "地区名称", "分组", "数量")
_VALIDITY = re.compile(r"^\[[^\]]*\]")  # python-stdnum marks names by the years they were valid: "[1983-]历下区"


def area_name(area: str) -> str:
    """The area's Chinese name: a province (2 digits), a prefecture (4) or a county (6)."""
    described = regions.describe(area.ljust(6, "0")) or {}
    name = described.get("county") or described.get("prefecture") or described.get("province", "")
    return _VALIDITY.sub("", name) if len(area) > 2 else described.get("province", "")


def rows_of(table: list[dict]) -> list[tuple]:
    return [(row["province"], row["area"], area_name(row["area"]), row["value"], row["count"]) for row in table]


def as_csv(table: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows(rows_of(table))
    return codecs.BOM_UTF8 + out.getvalue().encode()


def as_xlsx(table: list[dict], *, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
    sheet.append(HEADINGS)
    for row in rows_of(table):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
