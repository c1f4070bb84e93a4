"""The weekly and monthly reports: PDF text and fonts (poppler), Excel values, masking, no injection."""

import json
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest

from pipeline.config import load_config
from pipeline.demo import write_demo_inbox
from pipeline.render.model import KPI_LABELS, mask_name, mask_phone, missed_kpis, text_width
from pipeline.run import RunOptions, run
from pipeline.store import Store
from tests.builders import xlsx

ROOT = Path(__file__).resolve().parent.parent


def _pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _xlsx_strings(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo")
    write_demo_inbox(base / "inbox")
    hostile = [
        ["客户投诉处理登记表"],
        ["投诉编号", "项目", "受理日期", "投诉类别", "投诉内容", "投诉人", "联系电话"],
        [
            "EVIL-1",
            "翠湖花园",
            "2026-10-20",
            "其他",
            '=HYPERLINK("http://x","点我")',
            "<b>坏人</b>",
            "13900001111",
        ],
        [
            "EVIL-2",
            "翠湖花园",
            "2026-10-21",
            "其他",
            '<img src="file:///etc/passwd">',
            "@SUM(A1)",
            "13900002222",
        ],
    ]
    xlsx(base / "inbox" / "翠湖花园补充.xlsx", {"2026年10月": hostile})
    config = load_config(ROOT / "config.toml")
    opts = dict(
        inbox=base / "inbox",
        reports=base / "reports",
        store=base / "s.sqlite",
        archive=base / "a",
        as_of="2026-11-01 08:00",
        workers=1,
    )
    monthly = run(config, RunOptions(month="2026-10", **opts))
    weekly = run(config, RunOptions(week="2026-W44", **opts))
    unmasked = run(
        config, RunOptions(month="2026-10", unmasked=True, **{**opts, "reports": base / "unmasked"})
    )
    with Store(base / "s.sqlite") as store:
        phones = [
            phone
            for key in ("complaints", "callbacks", "repairs", "households")
            for (phone,) in store.db.execute('SELECT "联系电话" FROM rows_' + key).fetchall()
        ]
    return {"monthly": monthly, "weekly": weekly, "unmasked": unmasked, "phones": {p for p in phones if p}}


@pytest.mark.parametrize("kind", ["monthly", "weekly"])
def test_pdf_has_chinese_headings_kpi_values_and_an_embedded_cjk_font(demo, kind):
    result = demo[kind]
    pdf = result.outputs["pdf"]
    text = _pdftotext(pdf)
    assert ("客服部周报" if kind == "weekly" else "客服部月报") in text
    for heading in ("指标", "回访率", "有效投诉率", "附录：指标定义与数据来源"):
        assert heading in text
    if kind == "weekly":
        assert "下周工作" in text and "待回访" in text and "投诉原因分析" in text
    for key in ("callback_rate", "reply_rate", "satisfaction_rate"):
        k = result.model["kpis"][key]
        if k["value"] is not None:
            assert f"{k['value'] * 100:.1f}%" in text, key
            assert f"{k['numerator']}/{k['denominator']}" in text, key
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"NotoSansCJK|Noto-Sans-CJK-SC", fonts) and " yes " in fonts


def test_excel_report_carries_the_kpis_json_values(demo):
    result = demo["monthly"]
    model = json.loads((result.report_dir / "kpis.json").read_text(encoding="utf-8"))
    wb = openpyxl.load_workbook(result.outputs["xlsx"])
    ws = wb["总览"]
    rows = {r[0]: r for r in ws.iter_rows(values_only=True) if r and r[0] in KPI_LABELS.values()}
    for key in (
        "callback_rate",
        "reply_rate",
        "promise_kept_rate",
        "same_day_verification_rate",
        "satisfaction_rate",
        "effective_complaint_rate_ytd",
    ):
        k = model["kpis"][key]
        label, value, num, den = rows[KPI_LABELS[key]][:4]
        assert (value, num, den) == (pytest.approx(k["value"]), k["numerator"], k["denominator"]), key
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws._charts or True  # charts are checked below through the drawing parts
    import zipfile

    with zipfile.ZipFile(result.outputs["xlsx"]) as zf:
        assert sum(1 for n in zf.namelist() if n.startswith("xl/charts/chart")) == 2
    detail = wb["指标明细"]
    traced = [r for r in detail.iter_rows(min_row=2, values_only=True) if r[0] == "回访率"]
    assert len(traced) == model["kpis"]["callback_rate"]["denominator"]
    assert sum(1 for r in traced if r[1].startswith("分子")) == model["kpis"]["callback_rate"]["numerator"]
    assert all(r[5] and r[7] for r in traced)  # every number traceable to a file and an Excel row


def test_no_raw_phone_in_masked_reports_and_all_in_unmasked(demo):
    phones = demo["phones"]
    assert "13900001111" in phones
    result = demo["monthly"]
    masked_text = _pdftotext(result.outputs["pdf"]) + _xlsx_strings(result.outputs["xlsx"])
    assert not [p for p in phones if p in masked_text]
    unmasked = demo["unmasked"]
    text = _pdftotext(unmasked.outputs["pdf"]) + _xlsx_strings(unmasked.outputs["xlsx"])
    assert "请勿外传" in text
    pending = [it["phone"] for it in unmasked.model["lists"]["pending_callbacks"] if it.get("phone")]
    assert pending and all(p in text for p in pending)


def test_register_text_never_becomes_a_formula_or_markup(demo):
    result = demo["unmasked"]
    for path in (result.outputs["xlsx"], result.report_dir / "validation.xlsx"):
        wb = openpyxl.load_workbook(path)
        formulas = [
            c.coordinate for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"
        ]
        assert formulas == [], path
    wb = openpyxl.load_workbook(result.outputs["xlsx"])
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == "@SUM(A1)"]
    assert cells and all(c.data_type == "s" for c in cells)  # the customer named "@SUM(A1)" stays text
    from pipeline.render.model import build_report
    from pipeline.render.pdf import render_html

    model = json.loads(json.dumps(result.model))
    model["lists"]["pending_callbacks"].insert(
        0,
        {
            "type": "投诉",
            "id": "EVIL-1",
            "property": "翠湖花园",
            "unit": "<i>1</i>",
            "person": "<b>坏人</b>",
            "phone": '<img src="file:///etc/passwd">',
            "closed": "2026-10-21",
            "days_waiting": 3,
            "owner": "客服部",
        },
    )
    html = render_html(build_report(model, unmasked=True))
    assert "&lt;b&gt;坏人&lt;/b&gt;" in html and "<b>坏人</b>" not in html
    assert "<img src" not in html


def test_masking_rules():
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧阳**" and mask_name(None) == ""
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0755-12345678") == "0755****5678"


def test_scorecard_table_appears_when_enabled(demo):
    from pipeline.render.excel import write_excel
    from pipeline.render.model import build_report
    from pipeline.render.pdf import render_html

    model = json.loads(json.dumps(demo["monthly"].model))
    model["scorecard"] = [
        {
            "name": "王敏",
            "complaints": 3,
            "callbacks": 5,
            "repairs": 0,
            "volume": 8,
            "on_time_share": 1.0,
            "top": True,
            "streak": 2,
            "award": 100,
            "commission": None,
        }
    ]
    report = build_report(model)
    assert "员工考评" in render_html(report) and "★ 第一" in render_html(report)
    path = write_excel(report, demo["monthly"].report_dir / "scorecard-check.xlsx")
    assert openpyxl.load_workbook(path)["员工考评"]["I2"].value == 100


def test_excel_lists_carry_real_dates_and_numbers(demo):
    wb = openpyxl.load_workbook(demo["weekly"].outputs["xlsx"])
    ws = wb["逾期与督办"]
    header = [c.value for c in ws[1]]
    row = [c for c in ws[2]]
    deadline = row[header.index("应完成日期")]
    assert deadline.is_date and deadline.number_format == "yyyy-mm-dd"
    assert isinstance(row[header.index("逾期天数")].value, int)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref


def _office_csv(xlsx_path: Path, out: Path) -> dict[str, list[list[str]]]:
    """Every sheet as LibreOffice (headless) exports it to UTF-8 CSV: what a viewer that recalculates sees."""
    import csv
    import shutil

    soffice = shutil.which("soffice")
    assert soffice, "LibreOffice is installed by scripts/install-system-deps.sh"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{out}/profile",
            "--headless",
            "--norestore",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
            "--outdir",
            str(out),
            str(xlsx_path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    sheets = {}
    for path in out.glob(f"{xlsx_path.stem}-*.csv"):
        with open(path, encoding="utf-8", newline="") as fh:
            sheets[path.stem[len(xlsx_path.stem) + 1 :]] = list(csv.reader(fh))
    return sheets


def test_excel_report_reads_the_same_in_libreoffice(demo, tmp_path):
    result = demo["monthly"]
    model = json.loads((result.report_dir / "kpis.json").read_text(encoding="utf-8"))
    sheets = _office_csv(result.outputs["xlsx"], tmp_path)
    rows = {r[0]: r for r in sheets["总览"] if r}
    for key in (
        "callback_rate",
        "reply_rate",
        "promise_kept_rate",
        "satisfaction_rate",
        "effective_complaint_rate_ytd",
    ):
        k = model["kpis"][key]
        shown = rows[KPI_LABELS[key]]
        assert float(shown[1].rstrip("%")) / 100 == pytest.approx(k["value"], abs=1e-9), key
        assert (int(shown[2]), int(shown[3])) == (k["numerator"], k["denominator"]), key
    assert len(sheets["待回访"]) - 1 == len(model["lists"]["pending_callbacks"])
    assert len(sheets["指标明细"]) - 1 >= model["kpis"]["callback_rate"]["denominator"]
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(result.outputs["xlsx"]),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "report.pdf")], check=True, capture_output=True, text=True
    ).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) > 0
    # Issue 20: as printed by an office suite, no column is too narrow for its number ("###") and
    # no value is cut: every text that does not wrap shows whole
    printed = _pdftotext(tmp_path / "report.pdf")
    assert "###" not in printed
    flat = re.sub(r"\s+", "", printed)
    wb = openpyxl.load_workbook(result.outputs["xlsx"])
    whole = [
        c.value
        for ws in wb.worksheets
        for row in ws.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, str) and len(c.value) <= 50 and not c.alignment.wrap_text
    ]
    assert len(whole) > 500
    assert [v for v in whole if re.sub(r"\s+", "", v) not in flat] == []
    assert re.search(r"\d+\.\d% ✘", printed) and "≥ 100.0%" in printed and "< 1.00%" in printed


def test_workbook_numbers_are_numbers_with_formats_and_a_linked_contents_sheet(demo):
    """Issue 20: rates in 各项目 / 部门 / 员工 are numbers (they sort, filter, chart) judged by
    format, targets keep their "<", a first sheet 目录 links every sheet, Chinese names everywhere."""
    wb = openpyxl.load_workbook(demo["monthly"].outputs["xlsx"])
    assert wb.sheetnames[0] == "目录"
    links = {c.hyperlink.location.split("!")[0].strip("'") for c in wb["目录"]["A"] if c.hyperlink}
    assert links == set(wb.sheetnames[1:])
    for sheet in ("各项目", "部门", "员工-受理人"):
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        col = header.index("按时答复率" if sheet != "各项目" else "回访率") + 1
        cells = [
            ws.cell(row=i, column=col)
            for i in range(2, ws.max_row + 1)
            if ws.cell(row=i, column=col).value is not None
        ]
        assert cells and all(isinstance(c.value, int | float) and "%" in c.number_format for c in cells), (
            sheet
        )
        assert all("✘" in c.number_format and "✔" in c.number_format for c in cells), sheet
        assert ws.conditional_formatting, sheet
    overview = wb["总览"]
    targets = {r[0].value: r[4] for r in overview.iter_rows() if r[0].value in KPI_LABELS.values()}
    assert targets["有效投诉率（年累计）"].value == 0.01 and targets[
        "有效投诉率（年累计）"
    ].number_format.startswith('"< "')
    assert targets["回访率"].number_format.startswith('"≥ "')
    registers = {c.value for c in wb["指标明细"]["C"][1:] if c.value}
    assert registers and registers <= {
        "客户投诉处理登记表",
        "回访记录表",
        "复检登记表",
        "投诉处理结果客户反馈登记表",
        "报修登记表",
    }
    quality = wb["数据质量"]
    names = [quality.cell(row=i, column=1).value for i in range(2, quality.max_row + 1)]
    names = [n for n in names[: names.index(None)] if n]  # the table, not the note below it
    width = quality.column_dimensions["A"].width
    assert names and width >= max(text_width(n) for n in names)  # CJK characters count double


def test_page_one_opens_with_a_conclusion_and_judges_the_complaint_rate_on_the_year(demo):
    """Issue 20: page 1 says in words how many KPIs missed, each with its worst property and gap, and
    the properties behind an aggregate that met; the week's own complaint rate is context."""
    weekly = _pdftotext(demo["weekly"].outputs["pdf"])
    monthly = _pdftotext(demo["monthly"].outputs["pdf"])
    first = re.sub(r"\s+", "", monthly.split("\f")[0])
    m = json.loads((demo["monthly"].report_dir / "kpis.json").read_text(encoding="utf-8"))
    missed = missed_kpis(m)
    assert missed and f"{len(missed)}项未达标：" in first
    for k in missed:
        said = f"·{k['label']}{k['value_text']}（目标{k['target_text']}，{k['gap']}"
        said += f"；最差{k['worst']['property']}{k['worst']['value_text']}）" if k["worst"] else "）"
        assert re.sub(r"\s+", "", said) in first, said
    ytd = m["by_property"]["滨江壹号"]["effective_complaint_rate_ytd"]
    assert not ytd["met"] and m["kpis"]["effective_complaint_rate_ytd"]["met"]  # the demo's case
    assert (
        f"合计达标、个别项目未达标：·有效投诉率（年累计）（目标<1.00%）：滨江壹号{ytd['value'] * 100:.2f}%"
        in first
    )
    assert first.index("项未达标") < first.index("本月指标")
    model = json.loads((demo["weekly"].report_dir / "kpis.json").read_text(encoding="utf-8"))
    period = model["kpis"]["effective_complaint_rate"]
    assert period["target"] is None and period["met"] is None  # never 1%/52
    assert model["kpis"]["effective_complaint_rate_ytd"]["target"] == 0.01
    page1 = weekly.split("\f")[0].splitlines()
    row = next(line for line in page1 if line.strip().startswith("有效投诉率（本"))
    assert "— 参考" in row and "未达标" not in row
    repeat = next(line for line in page1 if line.strip().startswith("重复投诉"))
    assert "无数据" not in repeat
    assert "逾期与督办（天数计至 10月30日 16:30）" in weekly
    assert "逾期与督办（天数计至 11月1日 00:00）" in monthly


def test_one_propertys_report_is_scoped_to_it(demo, tmp_path):
    from pipeline.config import load_config

    base = demo["monthly"].report_dir.parents[2]
    config = load_config(ROOT / "config.toml")
    result = run(
        config,
        RunOptions(
            inbox=base / "inbox",
            reports=tmp_path / "r",
            store=base / "s.sqlite",
            archive=base / "a",
            month="2026-10",
            as_of="2026-11-01 08:00",
            workers=1,
            property="金桂苑",
        ),
    )
    assert result.report_dir == tmp_path / "r" / "monthly" / "2026-10" / "金桂苑"
    m = result.model
    assert m["scope"] == "金桂苑" and list(m["by_property"]) == ["金桂苑"]
    assert (
        m["kpis"]["callback_rate"]["denominator"]
        == demo["monthly"].model["by_property"]["金桂苑"]["callback_rate"]["denominator"]
    )
    names = [f["name"] for f in m["data_quality"]["files"]]
    # its five registers, its roster and its problem tracker, no one else's
    assert len(names) == 7 and all(n.startswith("金桂苑") for n in names)
    text = _pdftotext(result.outputs["pdf"])
    assert "金桂苑" in text and "翠湖花园" not in text
    wb = openpyxl.load_workbook(result.outputs["validation"], read_only=True)
    listed = {r[0] for r in wb["问题清单"].iter_rows(min_row=2, values_only=True)}
    group = openpyxl.load_workbook(demo["monthly"].outputs["validation"], read_only=True)
    everyone = {r[0] for r in group["问题清单"].iter_rows(min_row=2, values_only=True)}
    assert listed and listed < everyone and all(n.startswith("金桂苑") for n in listed)


def test_next_week_lists_each_open_item_once():
    from pipeline.render.model import _next_week, follow_up_count

    overdue = {"type": "投诉", "id": "A1", "property": "甲", "deadline": "2026-10-01", "days_overdue": 3}
    lists = {
        "overdue": [overdue],
        "reinspections_due_soon": [],
        "pending_callbacks": [],
        "unhappy_feedback": [],
        "open": [
            {"type": "投诉", "id": "A1", "property": "甲", "age_days": 9},
            {"type": "投诉", "id": "A2", "property": "甲", "age_days": 2},
            {"type": "投诉", "id": "A2", "property": "甲", "age_days": 2},
        ],
    }
    table = _next_week({"lists": lists}, unmasked=False)
    # A1 is in 逾期与督办 already: no list repeats another's rows (issue 20)
    assert [(r[0], r[1]) for r in table.rows] == [("未完成投诉", "A2")]
    assert follow_up_count({"lists": lists}) == 2
    # another centre's A1 is another case: not hidden by 甲's A1 in 逾期与督办
    lists["open"].append({"type": "投诉", "id": "A1", "property": "乙", "age_days": 4})
    table = _next_week({"lists": lists}, unmasked=False)
    assert [(r[1], r[2]) for r in table.rows] == [("A2", "甲"), ("A1", "乙")]


def _cells(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's values, but the time the report was generated."""
    wb = openpyxl.load_workbook(path, read_only=True)
    stamp = re.compile(r"生成于 [\d: -]+")
    return {
        ws.title: [
            tuple(stamp.sub("", v) if isinstance(v, str) else v for v in row)
            for row in ws.iter_rows(values_only=True)
        ]
        for ws in wb.worksheets
    }


def test_a_groups_roll_up_ranks_properties_worst_first_and_leaves_long_lists_to_each_property(demo, tmp_path):
    """Issue 20: with several properties the report is a roll-up: properties worst first, and a
    record list past GROUP_ROWS rows is cut there, saying that each property's own report has it
    all; a property's own report keeps every row of its 指标明细, so every figure stays traceable."""
    from pipeline.render.model import GROUP_ROWS

    result = demo["monthly"]
    wb = openpyxl.load_workbook(result.outputs["xlsx"])
    ranked = [r[0] for r in wb["各项目"].iter_rows(min_row=2, values_only=True) if r[0]]
    model = json.loads((result.report_dir / "kpis.json").read_text(encoding="utf-8"))
    misses = {
        n: sum(1 for k in ks.values() if isinstance(k, dict) and k.get("met") is False)
        for n, ks in model["by_property"].items()
    }
    assert [misses[n] for n in ranked[:3]] == sorted((misses[n] for n in ranked[:3]), reverse=True)
    trace = wb["指标明细"]
    rows = [r for r in trace.iter_rows(min_row=2, values_only=True) if r[0]]
    total = sum(len(t.get("denominator") or t.get("numerator") or []) for t in model["provenance"].values())
    assert total > GROUP_ROWS and len(rows) == GROUP_ROWS + 1  # the rows, then the note
    assert f"共 {total} 行" in rows[-1][0] and "pipeline run --property" in rows[-1][0]
    base = result.report_dir.parents[2]  # the demo fixture's folder: reports/monthly/2026-10
    own = run(
        load_config(ROOT / "config.toml"),
        RunOptions(
            inbox=base / "inbox",
            reports=tmp_path / "reports",
            store=base / "s.sqlite",
            archive=tmp_path / "a",
            as_of="2026-11-01 08:00",
            month="2026-10",
            property="金桂苑",
            workers=1,
        ),
    )
    mine = json.loads((own.report_dir / "kpis.json").read_text(encoding="utf-8"))
    wanted = sum(len(t.get("denominator") or t.get("numerator") or []) for t in mine["provenance"].values())
    sheet = openpyxl.load_workbook(own.outputs["xlsx"])["指标明细"]
    assert len([r for r in sheet.iter_rows(min_row=2, values_only=True) if r[1]]) == wanted


def test_a_large_groups_pdf_shows_its_worst_properties_and_its_workbook_ranks_them_all(demo, tmp_path):
    """Past PDF_PROPERTIES properties, the PDF's tables of properties (各项目指标, 回访计划执行) show
    the worst of them (those that missed more first), saying how many there are and where they all
    are; report.xlsx keeps every property, ranked."""
    import copy

    from pipeline.render.excel import write_excel
    from pipeline.render.model import build_report
    from pipeline.render.pdf import PDF_PROPERTIES, write_pdf

    model = json.loads((demo["monthly"].report_dir / "kpis.json").read_text(encoding="utf-8"))
    _, base = next(iter(model["by_property"].items()))
    count = PDF_PROPERTIES + 12
    model["by_property"] = {f"项目{i:03d}": copy.deepcopy(base) for i in range(count)}
    for i in range(PDF_PROPERTIES, count):  # the last by name miss badly: ranked first in both tables
        ks = model["by_property"][f"项目{i:03d}"]
        ks["callback_rate"].update(value=0.1, numerator=1, denominator=10, met=False)
        ks["routine_callback_coverage"].update(value=0.01, numerator=1, denominator=100, met=False)
    report = build_report(model)
    text = _pdftotext(write_pdf(report, tmp_path / "r.pdf"))
    shown = {i for i in range(count) if f"项目{i:03d}" in text}
    assert shown == set(range(PDF_PROPERTIES, count)) | set(range(PDF_PROPERTIES - 12))
    flat = "".join(text.split())
    assert (
        f"共{count}个项目，此处列出未达标最多的前{PDF_PROPERTIES}个；全部项目见Excel报告“各项目”工作表"
        in flat
    )
    assert "“回访计划执行”工作表" in flat and "合计" in flat  # the programme's table too, with its total
    sheet = openpyxl.load_workbook(write_excel(report, tmp_path / "r.xlsx"))["各项目"]
    ranked = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] and r[0].startswith("项目")]
    assert len(ranked) == count and ranked[:12] == [f"项目{i:03d}" for i in range(PDF_PROPERTIES, count)]


def test_a_groups_long_list_is_built_only_as_far_as_it_is_shown_and_still_counted_whole(demo, tmp_path):
    """A group's lists run to tens of thousands of rows (36,000 待回访 at 300 properties); the roll-up
    shows GROUP_ROWS of them, so only those are made into table rows, and every output still says
    how many there are."""
    from pipeline.render.excel import write_excel
    from pipeline.render.model import GROUP_ROWS, build_report
    from pipeline.render.pdf import cap

    result = demo["monthly"]
    model = json.loads((result.report_dir / "kpis.json").read_text(encoding="utf-8"))
    assert len(model["by_property"]) > 1
    item = dict(model["lists"]["pending_callbacks"][0])
    model["lists"]["pending_callbacks"] = [{**item, "id": f"TS-{i:05d}"} for i in range(GROUP_ROWS * 3 + 7)]
    report = build_report(model)
    table = report.lists["pending_callbacks"]
    assert len(table.rows) == GROUP_ROWS and table.count == GROUP_ROWS * 3 + 7
    assert table.rows[-1][1] == f"TS-{GROUP_ROWS - 1:05d}"
    assert f"共 {GROUP_ROWS * 3 + 7} 项" in cap(table, group=True).note
    path = write_excel(report, tmp_path / "r.xlsx")
    sheet = next(
        ws for ws in openpyxl.load_workbook(path) if ws["A1"].value == "类型" and ws.max_row > GROUP_ROWS
    )
    values = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    assert len(values) == GROUP_ROWS + 1 and f"共 {GROUP_ROWS * 3 + 7} 行" in values[-1]
