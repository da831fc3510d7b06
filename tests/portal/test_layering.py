"""The portal needs no host but its own. (That the registry never imports it is tests/test_import_directions.py.)"""
import re
from pathlib import Path

PLATFORM = Path(__file__).resolve().parents[2] / "platform"


def test_pages_load_nothing_from_another_host():
    shipped = [*(PLATFORM / "portal" / "templates").glob("*.html"), *(PLATFORM / "portal" / "static").glob("*")]
    external = {path.name: re.findall(r"(?:https?:)?//[\w.-]+\.\w+", path.read_text(encoding="utf-8"))
                for path in shipped}

    assert shipped and {name: hosts for name, hosts in external.items() if hosts} == {}
