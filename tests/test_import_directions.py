"""The design's import directions, enforced: the application plane (registry) knows nothing of the control plane,
`tenants` is a pure data model, the portal sits on the registry and never the reverse, and no `fsp` command
module imports another (what they share lives in options.py, common.py, output.py)."""
import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"registry": REPO / "platform" / "registry", "portal": REPO / "platform" / "portal",
            "tenants": REPO / "tenants", "infra": REPO / "infra", "monitoring": REPO / "monitoring",
            "provisioning_cli": REPO / "provisioning_cli", "migrations": REPO / "migrations"}
# who may import whom, besides itself (DESIGN.md "Layout")
ALLOWED = {
    "tenants": set(),
    "registry": set(),
    "portal": {"registry"},
    "monitoring": {"tenants"},
    "infra": {"tenants", "registry"},
    "migrations": {"registry"},
    "provisioning_cli": {"infra", "monitoring", "tenants", "registry", "portal"},
}


def _imports(path: Path) -> set[str]:
    """The dotted names a module imports, absolute ones only (the project uses no relative imports)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _modules(package: str) -> list[Path]:
    return sorted(PACKAGES[package].rglob("*.py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_one_way(package):
    ours = set(PACKAGES)
    wrong = []
    for path in _modules(package):
        for name in _imports(path):
            top = name.split(".")[0]
            if top in ours and top != package and top not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(REPO)} imports {name}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_command_modules_import_no_sibling_command_module():
    commands = {p.stem for p in PACKAGES["provisioning_cli"].glob("*_cmd.py")}
    wrong = [f"{path.name} imports {name}"
             for path in PACKAGES["provisioning_cli"].glob("*_cmd.py")
             for name in _imports(path)
             if name.startswith("provisioning_cli.") and name.split(".")[1] in commands - {path.stem}]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_scan_sees_the_packages():
    """A scan that found nothing would pass every check above."""
    assert len(_modules("registry")) > 40 and len(_modules("provisioning_cli")) > 15
    assert "registry.journal" in _imports(PACKAGES["registry"] / "cases" / "service.py")
