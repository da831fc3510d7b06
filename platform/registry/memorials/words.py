"""The sensitive-word filter of memorial messages: the list in `sensitive_words.txt`, read once per process.

A message containing any of the words is held for the staff's review instead of being published. Matching
ignores case, spaces and full-width forms (NFKC), so `加 微 信` or `ＡＢＣ` is caught like `加微信` or `abc`."""
import functools
import re
import unicodedata
from importlib import resources


def _normal(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).casefold().split())


@functools.cache
def _pattern() -> re.Pattern | None:
    lines = resources.files("registry.memorials").joinpath("sensitive_words.txt").read_text(encoding="utf-8")
    words = sorted({_normal(line) for line in lines.splitlines() if line.strip() and not line.lstrip().startswith("#")},
                   key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def found_in(*texts: str | None) -> list[str]:
    """The listed words found in the texts, each once, in order of appearance."""
    pattern = _pattern()
    if pattern is None:
        return []
    hits: list[str] = []
    for value in texts:
        for match in pattern.finditer(_normal(value or "")):
            if match.group() not in hits:
                hits.append(match.group())
    return hits
