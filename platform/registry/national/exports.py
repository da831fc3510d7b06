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
    return csv_file(HEADINGS, rows_of(table))


def as_xlsx(table: list[dict], *, title: str) -> bytes:
    return xlsx_file(HEADINGS, rows_of(table), title=title)


def csv_file(headings: tuple[str, ...], rows: list[tuple]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headings)
    writer.writerows(rows)
    return codecs.BOM_UTF8 + out.getvalue().encode()


def xlsx_file(headings: tuple[str, ...], rows: list[tuple], *, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])  # Excel's limit on a sheet's name
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


COMPLETENESS_HEADINGS = ("省份", "省级代码", "省份名称", "年份", "登记死亡人数", "预期死亡人数", "登记完整率", "预期数来源")
NO_EXPECTED = "无预期数"


def completeness_rows(year: int, rows: list[dict]) -> list[tuple]:
    """One line per province and the nation's (全国) last; a province without a yearbook figure says so."""
    return [(row["province"] or "全国", row["province_code"], area_name(row["province_code"][:2]) if row["province_code"]
             else "全国", year, row["registered"], NO_EXPECTED if row["expected"] is None else row["expected"],
             NO_EXPECTED if row["ratio"] is None else row["ratio"], row["source"] or "") for row in rows]
