# 客服报表 pipeline — `make demo` and `make test` work on a fresh Debian machine with Python 3.11.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup sysdeps demo preview docs docs-images goldens test lint templates bench clean

setup: sysdeps $(STAMP)

sysdeps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

DEMO_RUN = $(PY) -m pipeline run --config config.toml --inbox demo/inbox --reports demo/reports \
	--store demo/store.sqlite --archive demo/archive --as-of "2026-11-01 08:00"

demo: setup
	@rm -rf demo
	@$(PY) -m pipeline demo --inbox demo/inbox
	@$(DEMO_RUN) --month 2026-10; test $$? -le 1
	@$(DEMO_RUN) --week 2026-W44 > /dev/null; test $$? -le 1
	@echo "演示报告 / demo reports:"
	@find $(CURDIR)/demo/reports -name 'report.*' -o -name kpis.json -o -name validation.xlsx | sort

preview: demo
	@bash scripts/preview.sh demo/reports demo/preview

docs: setup
	@$(PY) -c 'from pathlib import Path; from pipeline.docs import write_docs; print(*write_docs(Path("docs")), sep="\n")'

goldens: setup
	@$(PY) -m tests.golden_reports
	@git diff --stat -- tests/golden

docs-images: demo
	@bash scripts/doc_images.sh

test: setup
	@$(VENV)/bin/lint-imports --no-cache > /dev/null || $(VENV)/bin/lint-imports --no-cache
	@$(PY) -m pytest
	@echo "同一套测试对 PostgreSQL 再跑一遍 / the same suite again, against a throwaway PostgreSQL server:"
	@PIPELINE_TEST_STORE=postgresql $(PY) -m pytest

lint: setup
	@$(VENV)/bin/lint-imports --no-cache
	@$(VENV)/bin/ruff check pipeline tests bench
	@$(VENV)/bin/ruff format --check pipeline tests bench

templates: setup
	@$(PY) -m pipeline templates --out input_templates

bench: setup
	@$(PY) bench/bench_load.py --properties 30

clean:
	rm -rf $(VENV) demo build .pytest_cache
