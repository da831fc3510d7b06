"""The assessors' report: one HTML page in Chinese, printable, with no asset from another host."""
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

STATUS_LABELS = {"pass": "符合", "fail": "不符合", "not_applicable": "不适用", "manual": "需人工核查"}

_templates = Environment(loader=PackageLoader("provisioning_cli.baseline", "templates"),
                         autoescape=select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True)


def render_html(data: dict[str, Any]) -> str:
    return _templates.get_template("report.html").render(report=data, labels=STATUS_LABELS)
