"""Golden report models: a small hand-made group (two centres numbering from TS-001, a feedback that
names no property, a late re-inspection, a missing register) run for a week and a month at a fixed
as-of time; the report model every output is drawn from (render.model.build_report), minus the time
it was generated, is compared with tests/golden/*.json.

Regenerate after an intended change with `make goldens` (python -m tests.golden_reports), then read
the diff before committing it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from pipeline.config import parse_config
from pipeline.render.model import build_report
from pipeline.run import RunOptions, run
from tests.builders import xlsx

GOLDEN = Path(__file__).parent / "golden"
AS_OF = "2026-11-01 08:00"
PERIODS = {"weekly": {"week": "2026-10-30"}, "monthly": {"month": "2026-10"}}


def write_inbox(inbox: Path) -> None:
    for name, unique in (("东区", "TS-003"), ("西区", "TS-004")):
        head = [
            "投诉编号",
            "受理日期",
            "投诉类别",
            "调查核实日期",
            "承诺回复日期",
            "完成日期",
            "回复日期",
            "是否有效投诉",
            "责任部门",
            "受理人",
        ]
        rows = [
            [
                "TS-001",
                "2026-10-05 09:10",
                "维修",
                "2026-10-05",
                "2026-10-08",
                "2026-10-07",
                "2026-10-07",
                "是",
                "工程部",
                "王敏",
            ],
            [
                "TS-002",
                "2026-10-12 14:00",
                "服务态度",
                "2026-10-13",
                "2026-10-14",
                "2026-10-16",
                "2026-10-16",
                "否",
                "客服部",
                "李静",
            ],
            [
                unique,
                "2026-10-26 10:30",
                "保洁",
                "2026-10-26",
                "2026-10-28",
                None,
                None,
                "是",
                "保洁部",
                "王敏",
            ],
        ]
        xlsx(inbox / f"{name}投诉登记表.xlsx", {"2026年10月": [[f"{name}客户投诉处理登记表"], head, *rows]})
        head = ["回访编号", "关联编号", "回访日期", "回访人", "满意度", "问题已解决"]
        rows = [
            ["HF-1", "TS-001", "2026-10-08", "张华", "满意", "是"],
            ["HF-2", "BX-1", "2026-10-20", "张华", "不满意", "否"],
        ]
        xlsx(inbox / f"{name}回访记录表.xlsx", {"2026年10月": [[f"{name}回访记录表"], head, *rows]})
        head = ["申诉编号", "申诉日期", "受理日期", "紧急", "复检人员", "书面通知日期"]
        rows = [
            ["SS-1", "2026-10-01", "2026-10-02", "否", "王敏、李静", "2026-10-20"],
            ["SS-2", "2026-10-27", "2026-10-27", "是", "王敏、李静", None],
        ]
        xlsx(inbox / f"{name}复检登记表.xlsx", {"2026年10月": [[f"{name}复检登记表"], head, *rows]})
        head = ["报修编号", "报修时间", "报修内容", "维修人", "完成时间"]
        rows = [
            ["BX-1", "2026-10-18 08:00", "水管漏水", "赵强", "2026-10-19 17:00"],
            ["BX-2", "2026-10-29 09:00", "门锁", "赵强", None],
        ]
        if name == "东区":  # 西区 has not handed in its repairs register
            xlsx(inbox / f"{name}报修登记表.xlsx", {"2026年10月": [[f"{name}报修登记表"], head, *rows]})
    head = ["反馈编号", "投诉编号", "反馈日期", "满意度"]
    rows = [["FK-1", "TS-001", "2026-10-09", "满意"], ["FK-2", "TS-003", "2026-10-27", "不满意"]]
    xlsx(inbox / "客户反馈登记表.xlsx", {"2026年10月": [["投诉处理结果客户反馈登记表"], head, *rows]})


def kpi_models(base: Path) -> dict[str, dict]:
    """The group's kpis.json, weekly and monthly, at the fixed as-of time."""
    write_inbox(base / "inbox")
    config = parse_config({"properties": {"东区": {"households": 500}, "西区": {"households": 400}}}, base)
    out = {}
    for kind, period in PERIODS.items():
        result = run(
            config,
            RunOptions(
                inbox=base / "inbox",
                reports=base / "reports",
                store=base / "store.sqlite",
                archive=base / "archive",
                as_of=AS_OF,
                workers=1,
                render=False,
                **period,
            ),
        )
        out[kind] = json.loads((result.report_dir / "kpis.json").read_text(encoding="utf-8"))
    return out


def golden_form(model: dict) -> dict:
    """The report model as the golden file holds it: everything but the time it was generated."""
    report = dataclasses.asdict(build_report(model))
    report.pop("generated_at")
    for row in report["data_quality"]["rows"]:
        row[-1] = "…"  # the SHA-256 of a workbook built at test time (openpyxl stamps it with the time)
    return json.loads(json.dumps(report, ensure_ascii=False, default=str))


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for kind, model in kpi_models(Path(tmp)).items():
            path = GOLDEN / f"report_{kind}.json"
            path.write_text(
                json.dumps(golden_form(model), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
