"""Read one YAML tenant file strictly: a mapping, no duplicate keys, errors with a location."""

from pathlib import Path

import yaml


class YamlFileError(Exception):
    """A tenant file that cannot be read as a mapping; `where` is a key or a line position."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which PyYAML would otherwise silently overwrite."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise YamlFileError(str(key), f"duplicate key (line {line})")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_mapping(file: Path) -> dict:
    """The top-level mapping of a YAML file."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise YamlFileError("-", f"cannot read file: {err}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader is a SafeLoader
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "-"
        raise YamlFileError(where, f"YAML syntax error: {err.problem}") from None
    except yaml.YAMLError as err:
        raise YamlFileError("-", f"YAML syntax error: {err}") from None
    if data is None:
        raise YamlFileError("-", "file is empty")
    if not isinstance(data, dict):
        raise YamlFileError("-", f"expected a mapping of tenant fields, got {type(data).__name__}")
    return data
