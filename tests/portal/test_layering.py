"""The portal depends on the registry, never the reverse, and needs no host but its own."""
import re
from pathlib import Path

PLATFORM = Path(__file__).resolve().parents[2] / "platform"


def test_the_registry_never_imports_the_portal():
    importing = [str(path.relative_to(PLATFORM)) for path in (PLATFORM / "registry").rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+portal\b", path.read_text(encoding="utf-8"), re.MULTILINE)]

    assert importing == []


def test_pages_load_nothing_from_another_host():
    shipped = [*(PLATFORM / "portal" / "templates").glob("*.html"), *(PLATFORM / "portal" / "static").glob("*")]
    external = {path.name: re.findall(r"(?:https?:)?//[\w.-]+\.\w+", path.read_text(encoding="utf-8"))
                for path in shipped}

    assert shipped and {name: hosts for name, hosts in external.items() if hosts} == {}
