#!/usr/bin/env bash
# Installs the Debian packages the pipeline needs: a CJK font for the PDF reports, poppler for
# checking PDFs, HarfBuzz's subsetter (fast font subsetting in WeasyPrint), Pango, and LibreOffice Calc
# (headless) so the tests can open the Excel reports in a real office suite, and PostgreSQL (the test
# suite runs a second time against a throwaway server, see tests/pgserver.py), and Samba's testparm
# (the user guide's example share for the clerks' Windows PCs is checked with it).
# 安装系统依赖：中文字体、poppler、HarfBuzz 子集库、Pango、LibreOffice（无界面，供测试核对 Excel 报告）、PostgreSQL、
# Samba 的 testparm（检查使用说明中的共享设置）。
set -euo pipefail
PKGS=(fonts-noto-cjk poppler-utils libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 fontconfig libreoffice-calc-nogui
      postgresql samba-common-bin)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "缺少系统软件包：${missing[*]}" >&2
  echo "当前用户既不是 root，也无法免密使用 sudo。请管理员执行：" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  echo "Missing system packages and no root/sudo: ask an administrator to install them." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "未找到 apt-get：请手动安装 ${missing[*]}（或同等软件包）。" >&2
  exit 1
fi
echo "安装系统软件包 / installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
