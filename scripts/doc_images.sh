#!/usr/bin/env bash
# Regenerate the pictures in docs/ from the demo reports (run `make demo` first).
# 由演示报告重新生成使用说明中的图片。
set -euo pipefail
out=docs/images
mkdir -p "$out"
pdftoppm -png -r 50 -f 1 -l 2 demo/reports/weekly/2026-W44/report.pdf "$out/weekly"
pdftoppm -png -r 50 -f 1 -l 3 demo/reports/monthly/2026-10/report.pdf "$out/monthly"
ls -la "$out"
