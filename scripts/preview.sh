#!/usr/bin/env bash
# Render every page of the demo reports to PNG so that a person can look at them.
# 将演示报告的每一页渲染成 PNG，便于人工检查版面。
set -euo pipefail
reports=${1:-demo/reports}
out=${2:-demo/preview}
mkdir -p "$out"
find "$reports" -name report.pdf | sort | while read -r pdf; do
  name=$(basename "$(dirname "$(dirname "$pdf")")")-$(basename "$(dirname "$pdf")")
  pdftoppm -png -r 60 "$pdf" "$out/$name"
done
echo "预览图片 / preview pages: $(cd "$out" && pwd)"
ls "$out"
