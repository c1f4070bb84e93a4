"""Read .xlsx/.xlsm/.xls/.ods/.csv into grids whose indexes are the real Excel rows and columns.

rows[i][j] is the cell at Excel row i+1, column j (A = 0). Empty leading rows and columns are
kept on purpose, so that every row number we report is the one the clerk sees.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import python_calamine

from pipeline.errors import InputError

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}
TEXT_SUFFIXES = {".csv", ".txt"}
SUFFIXES = EXCEL_SUFFIXES | TEXT_SUFFIXES
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MAX_UNZIPPED = 1_000_000_000  # bytes inside an .xlsx before we call it a zip bomb
MAX_RATIO = 200
MAX_ROWS = 300_000  # a register sheet never has more; beyond this is a mistake or an attack
MAX_COLS = 500  # wider sheets are cut to their first 500 columns
# A register is a few MB; a file far beyond this is junk or a mistake, refused before it is read whole.
MAX_MB = {".xls": 100, ".csv": 200, ".txt": 200, ".xlsx": 200, ".xlsm": 200, ".ods": 200}


@dataclass
class RawSheet:
    name: str
    rows: list[list]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)
    hidden: bool = False
    cut_columns: int = 0  # how many columns beyond MAX_COLS were not read
    uncomputed: list[str] = field(default_factory=list)  # formula cells saved without a value (D3, D4)


def _check_zip(path: Path) -> dict[str, list[str]]:
    """Refuses a damaged or bomb-sized workbook; returns its formula cells saved without a value."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > MAX_UNZIPPED or (total > 50_000_000 and total / packed > MAX_RATIO):
                raise InputError("file-too-large", f"解压后 {total // 1_000_000} MB")
            return _uncomputed(zf, {i.filename for i in infos})
    except zipfile.BadZipFile as exc:
        raise InputError("file-unreadable", "文件已损坏或不完整") from exc


_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]+)"')
_TARGET = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"')
_TARGET_FIRST = re.compile(rb'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"')
# a cell whose formula is followed by no saved value: <c r="D3"><f>B3+3</f></c>, <f>B3+3</f><v />,
# <c r="D4"><f t="shared" si="0"/></c>; and, in a workbook that asks to be recalculated on opening,
# the placeholder 0 its writer put there (XlsxWriter's default)
_FORMULA_CELL = rb'<c\b[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)\s*'
_NO_VALUE = re.compile(_FORMULA_CELL + rb"(?:<v\s*/>|<v></v>)?\s*</c>")
_PLACEHOLDER = re.compile(_FORMULA_CELL + rb"(?:<v\s*/>|<v></v>|<v>0</v>)?\s*</c>")
_RECALC = re.compile(rb'<calcPr\b[^>]*\bfullCalcOnLoad="(?:1|true)"')


def _uncomputed(zf: zipfile.ZipFile, names: set[str]) -> dict[str, list[str]]:
    """Sheet name → its formula cells that have no saved value. Excel and WPS save each formula's
    value (and a calcChain); a workbook written by a program that cannot calculate has none, or a
    placeholder (0) with a request to recalculate on opening (fullCalcOnLoad), and every reader,
    ours too, sees those cells blank or 0. Only workbooks without a calcChain are scanned, and
    only those whose sheets have a formula are looked at further."""
    if "xl/calcChain.xml" in names or "xl/workbook.xml" not in names:
        return {}
    parts = {n: zf.read(n) for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")}
    parts = {n: data for n, data in parts.items() if b"<f" in data}
    if not parts:
        return {}
    book = zf.read("xl/workbook.xml")
    pattern = _PLACEHOLDER if _RECALC.search(book) else _NO_VALUE
    rels = zf.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
    targets = dict(_TARGET.findall(rels)) | {rid: t for t, rid in _TARGET_FIRST.findall(rels)}
    out = {}
    for name, rid in _SHEET.findall(book):
        target = targets.get(rid, b"").decode(errors="replace").lstrip("/")
        data = parts.get(target if target.startswith("xl/") else f"xl/{target}")
        cells = [ref.decode() for ref in pattern.findall(data)] if data else []
        if cells:
            out[_xml_text(name)] = cells
    return out


def cell_index(ref: str) -> tuple[int, int]:
    """'D3' → (2, 3): the grid's row and column indexes."""
    letters = ref.rstrip("0123456789")
    column = 0
    for ch in letters:
        column = column * 26 + ord(ch) - 64
    return int(ref[len(letters) :]) - 1, column - 1


def _xml_text(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(entity, char)
    return text


def _read_excel(path: Path, head: bytes) -> list[RawSheet]:
    uncomputed: dict[str, list[str]] = {}
    if head.startswith(OLE_MAGIC):
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputError("file-encrypted")
    elif head.startswith(ZIP_MAGIC):
        uncomputed = _check_zip(path)
    else:
        raise InputError("file-unreadable", f"扩展名是 {path.suffix}，但内容不是 Excel 工作簿")
    try:
        with open(path, "rb") as fh:
            wb = python_calamine.CalamineWorkbook.from_filelike(fh)
            sheets = []
            for meta in wb.sheets_metadata:
                sheet = wb.get_sheet_by_name(meta.name)
                if sheet.total_height > MAX_ROWS:
                    raise InputError(
                        "file-too-large",
                        f"工作表“{meta.name}”有 {sheet.total_height:,} 行，上限 {MAX_ROWS:,} 行",
                    )
                rows = sheet.to_python(skip_empty_area=False)
                cut = max(0, sheet.total_width - MAX_COLS)
                if cut:
                    rows = [r[:MAX_COLS] for r in rows]
                merged = list(getattr(sheet, "merged_cell_ranges", None) or [])
                hidden = meta.visible != python_calamine.SheetVisibleEnum.Visible
                blank = uncomputed.get(meta.name, [])
                for ref in blank:  # a placeholder (0, or nothing) is no value: read as blank, and said
                    r, c = cell_index(ref)
                    if r < len(rows) and c < len(rows[r]):
                        rows[r][c] = None
                sheets.append(RawSheet(meta.name, rows, merged, hidden, cut, blank))
            return sheets
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own error types for every kind of damage
        text = str(exc).lower()
        if "password" in text or "encrypt" in text:
            raise InputError("file-encrypted") from exc
        raise InputError("file-unreadable", f"文件已损坏或格式不正确：{str(exc)[:80]}") from exc


_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>")


def saved_at(path: Path) -> str | None:
    """When the workbook says it was last saved (docProps/core.xml of an .xlsx: Excel and WPS both
    write it), as '2026-10-31T09:12:00'; None where a file does not say."""
    try:
        with zipfile.ZipFile(path) as zf:
            found = _MODIFIED.search(zf.read("docProps/core.xml")[:20000])
    except (OSError, KeyError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None
    return found.group(1).decode(errors="replace").strip().rstrip("Z")[:19] if found else None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK/GB2312).
    A BOM that lies (GBK bytes behind a UTF-8 BOM) falls back to the next encoding; a text no
    encoding reads is an InputError, never a UnicodeDecodeError."""
    tries: list[tuple[bytes, str]] = []
    if data.startswith(b"\xef\xbb\xbf"):
        tries.append((data[3:], "utf-8"))
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        tries.append((data, "utf-16"))
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    tries += [(body, "utf-8"), (body, "gb18030")]
    for raw, encoding in tries:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("file-unreadable", "无法识别文本编码（既不是 UTF-8 也不是 GBK，或文件不完整）")


def _read_csv(path: Path) -> list[RawSheet]:
    data = path.read_bytes()
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("file-unreadable", "文件内容不是文本表格")
    text = decode_text(data)
    sample = text[:20000]
    delimiter = max(",\t;", key=sample.count)
    rows = []
    for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        rows.append(r[:MAX_COLS])
        if len(rows) > MAX_ROWS:
            raise InputError("file-too-large", f"超过 {MAX_ROWS:,} 行")
    if '="' in text:  # ="TS-0001", ="13812345678": an export's guard against Excel's number conversion
        rows = [[_unguarded(c) for c in r] for r in rows]
    return [RawSheet(path.stem, rows)]


def _unguarded(cell: str) -> str:
    """The text Excel shows for a CSV cell written ="…" (its quotes doubled inside)."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1].replace('""', '"')
    return cell


def read_file(path: Path) -> list[RawSheet]:
    """Read every sheet of a workbook (or the one table of a CSV). Raises InputError."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError("file-unsupported", value=suffix or path.name)
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise InputError("file-unreadable", f"无法打开：{exc.strerror}") from exc
    if size == 0:
        raise InputError("file-empty")
    if size > MAX_MB[suffix] * 1_000_000:
        raise InputError("file-too-large", f"{size / 1_000_000:,.0f} MB，上限 {MAX_MB[suffix]} MB")
    if suffix in TEXT_SUFFIXES:
        return _read_csv(path)
    return _read_excel(path, head)
