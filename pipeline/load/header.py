"""Find the header row of a clerk's sheet and map its headers onto a register's columns.

Clerks' sheets start with merged titles and blank rows, use two-row headers with merged parent
cells, write headers with line breaks, full-width characters and enumerations in brackets
(是否紧急（是/否）), and rename columns. The header is searched in the first 20 rows, against every
register, and the best-scoring (register, row) wins; title, sheet and file-name keywords break ties.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.registers import DATE, IGNORED_HEADERS, REGISTERS, Register

HEADER_SEARCH_ROWS = 20
MIN_MATCHED = 3
STRONG_COLUMNS = 3  # strongly named headers that make a register without its required ones
# Keyword check order: most specific register first (a feedback title also says 投诉).
KEYWORD_ORDER = ("actions", "households", "feedback", "reinspections", "callbacks", "repairs", "complaints")

_BRACKETS = re.compile(r"[(（\[【<《][^)）\]】>》]*[)）\]】>》]")
_NOISE = re.compile(r"[\s*※★☆:：;；,，。.、_\-—/\\|#?？!！\"'“”‘’]")


# an English gloss beside a Chinese header, as bilingual templates print them (受理日期 Date,
# 投诉编号\nComplaint No., Tel 联系电话): three letters or more (or No.), so that 投诉ID keeps its ID
_LATIN = r"[A-Za-z][A-Za-z .&/'()\-]*"  # an English word or phrase in a header
_ENGLISH = re.compile(_LATIN)
_GLOSS_AFTER = re.compile(rf"(?<=[\u4e00-\u9fff])\s*({_LATIN})$")
_GLOSS_BEFORE = re.compile(rf"^({_LATIN}?)\s*(?=[\u4e00-\u9fff])")


def _worded(text: str) -> bool:
    """English of three letters or more: a gloss, not an abbreviation kept in a header (投诉ID)."""
    return sum(ch.isalpha() for ch in text) >= 3


def _without_gloss(text: str) -> str:
    first, last = text[:1], text[-1:]
    english_end = (first.isascii() and first.isalpha()) or (
        last.isascii() and (last.isalpha() or last in ".)")
    )
    if not english_end or text.isascii():
        return text  # most headers: no English at either end
    for gloss in (_GLOSS_AFTER, _GLOSS_BEFORE):
        found = gloss.search(text)
        if found and (_worded(found.group(1)) or found.group(1).lower() in ("no", "no.")):
            text = text[: found.start()] + text[found.end() :]
    return text


def english_row(row: list, columns: dict[str, int]) -> bool:
    """Whether a row under the header is its English translation (Complaint No. | Date | Category),
    the second header row of a bilingual template, not data: two or more of the register's columns
    hold words of three letters or more, and none holds anything else."""
    words = 0
    for c in columns.values():
        value = row[c] if c < len(row) else None
        if value is None or value == "":
            continue
        if not isinstance(value, str) or not _ENGLISH.fullmatch(value.strip()):
            return False
        words += _worded(value)
    return words >= 2


@lru_cache(maxsize=8192)
def _norm(text: str) -> str:
    text = _without_gloss(unicodedata.normalize("NFKC", text))
    text = _BRACKETS.sub("", text)
    return _NOISE.sub("", text).lower()


def norm_header(value: object) -> str:
    """Canonical form of a header cell: NFKC, no bracketed enumerations, no spaces or punctuation."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _norm(value)
    return _norm(str(value))


@dataclass(frozen=True)
class Lookup:
    exact: dict[str, str]  # normalised header → column key


def build_lookup(register: Register, extra: dict[str, str] | None = None) -> Lookup:
    """Canonical headers, built-in aliases and config aliases (clerk header → canonical header)."""
    exact: dict[str, str] = {}
    for col in register.columns:
        for name in (col.header, *col.aliases):
            exact.setdefault(norm_header(name), col.key)
    for col in register.columns:  # a date's header ends in 日期 or 时间 alike (回复业主时间, 结案时间)
        if col.type == DATE:
            for name in (col.header, *col.aliases):
                for a, b in (("日期", "时间"), ("时间", "日期")):
                    if name.endswith(a):
                        exact.setdefault(norm_header(name[: -len(a)] + b), col.key)
    by_header = {c.header: c.key for c in register.columns}
    for clerk, canonical in (extra or {}).items():
        exact[norm_header(clerk)] = by_header[canonical]
    return Lookup(exact)


# A compound whose modifier says its date is a requirement, not the event: 要求完成时间 is a deadline,
# never the 完成日期 it ends with.
QUALIFIERS = ("要求", "计划", "预计", "应于", "规定", "最迟", "截止", "限期", "期限", "预约", "约定", "预定")
# A header listing alternatives or several things (覆盖站点/小区名称) names a column only exactly.
SEPARATORS = re.compile(r"[/／、|｜]|或")


def suffix_names(prefix: str, suffix: str) -> bool:
    """Whether a header `prefix + suffix` names the column that `suffix` names: Chinese compounds
    put the head last (投诉受理日期 is a 受理日期), unless the head is not Chinese ("Park Borough" is
    no "Borough") or the modifier makes it a deadline (要求报告完成时间)."""
    return "\u4e00" <= suffix[:1] <= "\u9fff" and not any(q in prefix for q in QUALIFIERS)


def match_header(text: str, lookup: Lookup, partial: bool = True) -> str | None:
    """Column key for a normalised header, or None.

    Besides exact matches, a header that ends with a known header of three or more characters
    matches it (suffix_names), when `partial` (the header as written lists no alternatives).
    """
    if not text:
        return None
    key = lookup.exact.get(text)
    if key is None and partial:
        stripped = text.rstrip("0123456789")
        for start in range(len(stripped) - 2):  # longest suffix first, at least three characters
            key = lookup.exact.get(stripped[start:])
            if key and suffix_names(stripped[:start], stripped[start:]):
                break
            key = None
    return key


HITS_MEMO = 50_000  # normalised texts remembered; most texts a search meets are titles and data


class Lookups:
    """Every register's lookup, asked at once: a header search tries each row against every
    register, and most texts it meets (titles, data rows) name nothing in any of them.

    hits(text) is match_header in each register, from one dictionary of all registers' headers
    and a suffix tried only at the lengths that known headers have; remembered, since a file's
    header is most often the template's that the files before it had."""

    def __init__(self, registers: dict[str, Lookup]) -> None:
        self.registers = registers
        self.headers: dict[str, dict[str, str]] = defaultdict(dict)  # header → register → column
        for reg, lookup in registers.items():
            for header, key in lookup.exact.items():
                self.headers[header][reg] = key
        self.lengths = sorted({len(h) for h in self.headers if len(h) >= 3}, reverse=True)
        self.memo: dict[tuple[str, bool], dict[str, tuple[str, bool]]] = {}

    def hits(self, norm: str, partial: bool = True) -> dict[str, tuple[str, bool]]:
        """Register key → (the column key that `norm` names in it, whether exactly); registers it
        names nothing in left out."""
        found = self.memo.get((norm, partial))
        if found is None:
            if len(self.memo) >= HITS_MEMO:
                self.memo.clear()
            found = self.memo[(norm, partial)] = self._hits(norm, partial) if norm else {}
        return found

    def _hits(self, norm: str, partial: bool) -> dict[str, tuple[str, bool]]:
        found = {reg: (key, True) for reg, key in self.headers.get(norm, {}).items()}
        if partial and len(found) < len(self.registers):
            stripped = norm.rstrip("0123456789")
            for n in self.lengths:  # longest suffix first, as match_header
                cut = len(stripped) - n
                if cut >= 0 and (named := self.headers.get(stripped[cut:])):
                    if suffix_names(stripped[:cut], stripped[cut:]):
                        for reg, key in named.items():
                            found.setdefault(reg, (key, cut == 0))
        return found


_IGNORED = frozenset(norm_header(h) for h in IGNORED_HEADERS)


@dataclass
class HeaderMatch:
    register: Register
    first_row: int  # 0-based index of the first header row
    last_row: int  # 0-based index of the last header row (== first_row for a one-row header)
    columns: dict[str, int]  # column key → 0-based column index
    labels: dict[int, str]  # column index → header text as the clerk wrote it
    unknown: list[tuple[int, str, str]] = field(default_factory=list)  # (index, header, closest known)
    duplicates: list[tuple[int, str, str]] = field(default_factory=list)  # (index, header, canonical)
    partial: list[tuple[int, str, str]] = field(default_factory=list)  # (index, header, what it partly names)
    # an unknown column that is another register's (回访日期 in a complaints register) → that register's title
    elsewhere: dict[int, str] = field(default_factory=dict)
    score: float = 0.0

    @property
    def data_start(self) -> int:
        return self.last_row + 1


@dataclass
class WeakHeader:
    """A row that names a few of a register's columns, too loosely to take the sheet as that register."""

    register: Register
    row: int  # Excel row
    headers: list[str]  # the headers as written that matched


_BREAK = re.compile(r"(\S?)\s*[\r\n]+\s*(\S?)")


def cell_text(value: object) -> str:
    """Header text of a cell, on one line (a cell wrapped as 受理\n日期 is named 受理日期 in every
    message); numbers and dates are never headers."""
    if not isinstance(value, str):
        return ""
    if "\n" in value or "\r" in value:
        value = _BREAK.sub(
            lambda m: m[1] + (" " if (m[1] + m[2]).isascii() and m[1] and m[2] else "") + m[2], value
        )
    return value.strip()


def _filled_parents(row: list, merged: list, row_index: int) -> list[str]:
    """Parent header row with horizontally merged cells filled across their span."""
    out = [cell_text(v) for v in row]
    for (r0, c0), (r1, c1) in merged:
        if r0 <= row_index <= r1 and c0 < len(out):
            for c in range(c0 + 1, min(c1 + 1, len(out))):
                if not out[c]:
                    out[c] = out[c0]
    return out


def _candidates(rows: list[list], merged: list, i: int):
    """Yield (first, last, labels) for a one-row header at i and a two-row header at i, i+1.

    labels maps a column index to the header texts to try there, best first.
    """
    top = [cell_text(v) for v in rows[i]]
    yield i, i, {c: (t,) for c, t in enumerate(top) if t}
    if i + 1 < len(rows):
        parents = _filled_parents(rows[i], merged, i)
        child = [cell_text(v) for v in rows[i + 1]]
        width = max(len(parents), len(child))
        combined: dict[int, tuple[str, ...]] = {}
        for c in range(width):
            p = parents[c] if c < len(parents) else ""
            ch = child[c] if c < len(child) else ""
            if ch:
                combined[c] = (ch, p + ch) if p else (ch,)
            elif p:
                combined[c] = (p,)
        yield i, i + 1, combined


def _score(register: Register, prepared: list) -> tuple[float, dict[str, int], dict[int, str], int]:
    """prepared: [(column index, ((text, Lookups.hits of it), ...)), ...] in column order.

    Exact headers are placed first, so that a header that only ends with a known one (要求报告完成
    时间, Park Borough) never takes a column that another header names exactly. Returns the score,
    the columns, the texts used and how many columns were named strongly (exactly, by the
    canonical header or an alias of three or more characters)."""
    columns: dict[str, int] = {}
    used: dict[int, str] = {}
    strong = 0
    for exact_pass in (True, False):
        for c, options in prepared:
            if c in used:
                continue
            for text, hits in options:
                key, exact = hits.get(register.key, (None, False))
                if key and exact == exact_pass and key not in columns:
                    columns[key] = c
                    used[c] = text
                    strong += exact and (len(norm_header(text)) >= 3 or register.column(key).header == text)
                    break
    required = sum(1 for col in register.columns if col.required and col.key in columns)
    return len(columns) + 0.5 * required, columns, used, strong


def strong_evidence(register: Register, columns: dict[str, int], strong: int, named: bool = False) -> bool:
    """A sheet is taken as a register on its required headers (two of them or more named
    strongly), or on several headers named strongly; three loose matches (编号, 日期, 类型) are
    not enough, unless the title, sheet or file name names the register (named) and they include
    its required headers (a 住户名单 with 楼栋, 房屋编号, 户主)."""
    required = all(col.key in columns for col in register.columns if col.required)
    return (
        strong >= STRONG_COLUMNS
        or (required and strong >= 2)
        or (named and required and len(columns) >= STRONG_COLUMNS)
    )


def keyword_register(*texts: str) -> str | None:
    """The register named by a title, sheet or file name, most specific first."""
    for text in texts:
        if not text:
            continue
        for key in KEYWORD_ORDER:
            if any(word in text for word in REGISTERS[key].keywords):
                return key
    return None


@lru_cache(maxsize=64)
def _lookups(aliases_key: tuple) -> Lookups:
    aliases = {reg: dict(items) for reg, items in aliases_key}
    return Lookups({key: build_lookup(reg, aliases.get(key)) for key, reg in REGISTERS.items()})


def lookups_for(aliases: dict[str, dict[str, str]]) -> Lookups:
    return _lookups(tuple(sorted((reg, tuple(sorted(m.items()))) for reg, m in aliases.items())))


def find_header(
    rows: list[list],
    merged: list,
    aliases: dict[str, dict[str, str]],
    hint_texts: tuple[str, ...] = (),
) -> HeaderMatch | WeakHeader | None:
    """Best (register, header rows) in the first 20 rows; a WeakHeader when some row names a few
    of a register's columns but not on strong evidence (the sheet is skipped, saying so); None
    when nothing looks like a header."""
    lookups = lookups_for(aliases)
    best: tuple | None = None
    weak: WeakHeader | None = None
    limit = min(HEADER_SEARCH_ROWS, len(rows))
    title_parts: list[str] = []  # text of the rows above the candidate header row
    for i in range(limit):
        texts = [t for t in map(cell_text, rows[i]) if t]
        if not texts:
            continue
        hinted = keyword_register(" ".join(title_parts), *hint_texts)
        title_parts.extend(texts)
        if best is not None and i > best[3] + 3:
            break  # data rows under a found header: no better header lies below
        for first, last, labels in _candidates(rows, merged, i):
            prepared = [
                (c, tuple((t, lookups.hits(norm_header(t), not SEPARATORS.search(t))) for t in opts))
                for c, opts in sorted(labels.items())
            ]
            # a register whose columns fewer than MIN_MATCHED cells name cannot match (a title or data row)
            named = Counter(reg for _, opts in prepared for reg in {r for _, hits in opts for r in hits})
            for key, register in REGISTERS.items():
                if named[key] < MIN_MATCHED:
                    continue
                score, columns, used, strong = _score(register, prepared)
                if len(columns) < MIN_MATCHED:
                    continue
                if not strong_evidence(register, columns, strong, hinted == key):
                    if weak is None or len(columns) > len(weak.headers):
                        weak = WeakHeader(register, i + 1, [used[c] for c in sorted(used)])
                    continue
                bonus = 1.5 if hinted == key else 0.0
                rank = (score + bonus, -(last - first), -i)
                if best is None or rank > best[0]:
                    best = (rank, register, first, last, columns, used, labels)
    if best is None:
        return weak
    _, register, first, last, columns, used, labels = best
    match = HeaderMatch(register, first, last, columns, used, score=best[0][0])
    _report_leftovers(match, labels, lookups)
    return match


def _report_leftovers(match: HeaderMatch, labels: dict, lookups: Lookups) -> None:
    lookup = lookups.registers[match.register.key]
    for c, options in sorted(labels.items()):
        if c in match.labels:
            continue
        text = options[0]
        norm = norm_header(text)
        if not norm or norm in _IGNORED or len(text) > 30 or norm.startswith(("说明", "注", "填表说明")):
            continue  # blank, 序号, or an instruction block beside the table
        key = match_header(norm, lookup, not SEPARATORS.search(text))
        if key and norm in lookup.exact:
            match.duplicates.append((c, text, match.register.column(key).header))
            continue
        if key or match_header(norm, lookup):  # only its end (or one of its parts) is a known header
            hint = match.register.column(key).header if key else ""
            match.partial.append((c, text, hint or _closest(norm, lookup, match.register)))
            continue
        others = [key for key in lookups.headers.get(norm, {}) if key != match.register.key]
        if others:  # in registers' order: a complaints register's 满意度 is its callbacks'
            match.elsewhere[c] = REGISTERS[others[0]].title
        match.unknown.append((c, text, _closest(norm, lookup, match.register)))


def _closest(norm: str, lookup: Lookup, register: Register) -> str:
    close = difflib.get_close_matches(norm, [*lookup.exact], n=1, cutoff=0.5)
    return register.column(lookup.exact[close[0]]).header if close else ""
