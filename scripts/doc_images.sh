#!/usr/bin/env bash
# Regenerate the pictures in docs/ from the demo reports (`make docs-images` runs the demo first),
# 1240 px wide (A4 at 150 dpi): legible at full width in the guide.
# 由演示报告重新生成使用说明中的图片。
set -euo pipefail
out=docs/images
mkdir -p "$out"
pdftoppm -png -scale-to-x 1240 -scale-to-y -1 -f 1 -l 3 demo/reports/weekly/2026-W44/report.pdf "$out/weekly"
pdftoppm -png -scale-to-x 1240 -scale-to-y -1 -f 1 -l 4 demo/reports/monthly/2026-10/report.pdf "$out/monthly"
ls -la "$out"
