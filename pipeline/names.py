"""The property a text names: one normalisation and one matching rule for cells, titles, sheet
names and file names.

Groups name their properties so that one name contains another (南亚 / 东南亚, 翠湖 / 翠湖二期,
东区 / 西区 of one estate), so the rule is strict:

1. an exact match on the normalised name or an alias wins;
2. otherwise the configured names (or aliases) written inside the text; where one of them lies
   inside another that also matched (南亚 inside 东南亚), the longer, more specific one counts;
3. otherwise, for a short text, the configured names that contain it (翠湖 → 翠湖花园).

If more than one property is left at the step that decides, the text is ambiguous: the caller
sets the row aside naming them, and never guesses.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache


def norm_name(text: object) -> str:
    """NFKC (full width → half width), no whitespace at all, case folded: 'Ａ区 一期' → 'a区一期'."""
    if text is None:
        return ""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


@dataclass(frozen=True)
class NameMatch:
    """name: the one property the text names, else None; candidates: the properties it fits
    equally well when it fits more than one (then name is None)."""

    name: str | None
    candidates: tuple[str, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


NO_MATCH = NameMatch(None)


class PropertyNames:
    """The configured properties and their aliases, normalised once."""

    def __init__(self, properties: dict[str, tuple[str, ...]]) -> None:
        self.properties = properties
        self.names: list[tuple[str, str]] = []  # (normalised alias, property)
        self.exact: dict[str, set[str]] = {}
        for name, aliases in properties.items():
            for alias in (name, *aliases):
                norm = norm_name(alias)
                if norm:
                    self.names.append((norm, name))
                    self.exact.setdefault(norm, set()).add(name)
        self.match = lru_cache(maxsize=4096)(self._match)

    def __bool__(self) -> bool:
        return bool(self.properties)

    def _match(self, text: str | None) -> NameMatch:
        norm = norm_name(text)
        if not norm:
            return NO_MATCH
        exact = self.exact.get(norm)
        if exact:
            return _decide(exact)
        inside = [(alias, name) for alias, name in self.names if alias in norm]
        if inside:
            # the most specific: drop an alias that lies inside another alias that also matched
            kept = {name for alias, name in inside if not any(alias != a and alias in a for a, _ in inside)}
            return _decide(kept)
        if len(norm) >= 2:
            around = {name for alias, name in self.names if norm in alias}
            if around:
                return _decide(around)
        return NO_MATCH

    def first(self, *texts: str | None) -> NameMatch:
        """The first text (title, sheet name, file name …) that names a property or is ambiguous."""
        for text in texts:
            found = self.match(text)
            if found.name or found.ambiguous:
                return found
        return NO_MATCH


def _decide(names: set[str]) -> NameMatch:
    if len(names) == 1:
        return NameMatch(next(iter(names)))
    return NameMatch(None, tuple(sorted(names)))
