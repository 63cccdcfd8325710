# mimamori — こども見守りデータ基盤. `make help` lists the targets.
# Everything installs into .local/ (ignored): virtualenvs from the lock files in requirements/,
# a project-local PostgreSQL cluster, service logs, mail, artefacts.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT      := $(abspath .)
LOCAL     := $(ROOT)/.local
UV        := $(LOCAL)/tools/bin/uv
UV_VERSION := 0.13.9
PY        := $(LOCAL)/venv/airflow/bin/python
export PYTHONPATH := $(ROOT)/include
export UV_COMPILE_BYTECODE := 1
export UV_LINK_MODE := copy
export DO_NOT_TRACK := 1

# Town and demo month (override on the command line: make demo MONTH=2026-09)
SEED   ?= $(or $(MIMAMORI_TOWN_SEED),42)
SCALE  ?= $(or $(MIMAMORI_TOWN_SCALE),1)
MONTHS ?= $(or $(MIMAMORI_DEMO_MONTHS),2)
MONTH  ?= $(or $(MIMAMORI_DEMO_MONTH),2026-10)
OUT    ?= $(LOCAL)/town

DEBIAN_PACKAGES := postgresql chromium fonts-noto-cjk
VENVS := airflow dbt superset

##@ Main
.PHONY: help
help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n\033[1m%s\033[0m\n", substr($$0, 5)} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: demo
demo: setup ## set up, start the stack, generate the synthetic town and run the monthly DAG for the demo month(s)
	$(PY) -m mimamori.demo --seed $(SEED) --scale $(SCALE) --months $(MONTHS) --end-month $(MONTH)

.PHONY: test
test: setup ## the whole test suite (starts and stops its own services)
	$(PY) -m pytest

##@ Set-up
.PHONY: setup
setup: deps venvs docs-assets env ## everything the project needs on this machine (idempotent, seconds when done)

.PHONY: deps
deps: ## Debian packages (PostgreSQL server, chromium, CJK fonts) when root and missing
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "[mimamori] installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "[mimamori] missing Debian packages:$$missing — ask root to run: apt-get install$$missing" >&2; exit 1; \
	fi

$(UV):
	@echo "[mimamori] bootstrapping uv $(UV_VERSION) into .local/tools"
	@python3 -m venv $(LOCAL)/tools && $(LOCAL)/tools/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(LOCAL)/venv/%/.synced: requirements/%.lock | $(UV)
	@echo "[mimamori] syncing .local/venv/$* from requirements/$*.lock"
	@test -x $(LOCAL)/venv/$*/bin/python || $(UV) venv -q --python python3.11 $(LOCAL)/venv/$*
	@VIRTUAL_ENV=$(LOCAL)/venv/$* $(UV) pip sync -q $<
	@touch $@

.PHONY: venvs
venvs: $(foreach v,$(VENVS),$(LOCAL)/venv/$(v)/.synced) ## virtualenvs from the lock files (uv, bytecode compiled)

# The CSS, JavaScript and fonts of the GX data docs, from the npm lock file (docs/quality.md): the
# docs site serves them itself, so no page it serves loads anything from outside this machine.
$(LOCAL)/docs-assets/.synced: requirements/docs-assets/package.json requirements/docs-assets/package-lock.json
	@echo "[mimamori] installing the data docs' assets into .local/docs-assets from requirements/docs-assets/package-lock.json"
	@mkdir -p $(LOCAL)/docs-assets && cp $^ $(LOCAL)/docs-assets/
	@cd $(LOCAL)/docs-assets && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

.PHONY: docs-assets
docs-assets: $(LOCAL)/docs-assets/.synced ## the data docs' CSS/JS/fonts from requirements/docs-assets/package-lock.json (npm ci)

.PHONY: env
env: ## create .env with fresh secrets if absent (and add secrets a newer .env.example introduced)
	@python3 -c "import sys; sys.path.insert(0, 'include'); from pathlib import Path; from mimamori.stack.envfile import ensure_env; ensure_env(Path('.')) and print('[mimamori] wrote new secrets to .env')"

.PHONY: lock
lock: | $(UV) ## re-resolve the lock files from requirements/*.in
	$(UV) pip compile -q --python 3.11 --overrides requirements/overrides.txt requirements/airflow.in -o requirements/airflow.lock
	$(UV) pip compile -q --python 3.11 requirements/dbt.in -o requirements/dbt.lock
	$(UV) pip compile -q --python 3.11 requirements/superset.in -o requirements/superset.lock
	$(UV) pip compile -q --python 3.11 requirements/splink.in -o requirements/splink.lock
	cd requirements/docs-assets && npm install --package-lock-only --ignore-scripts --no-audit --no-fund

##@ Local stack
.PHONY: up
up: setup ## start PostgreSQL, the mail catcher, Airflow and Superset on 127.0.0.1
	$(PY) -m mimamori.stack up

.PHONY: down
down: ## stop everything the project started (by PID file)
	@test -x $(PY) && $(PY) -m mimamori.stack down || true

.PHONY: status
status: ## what runs, on which URL, logins
	@$(PY) -m mimamori.stack status

.PHONY: logs
logs: ## the last lines of every service log
	@$(PY) -m mimamori.stack logs

.PHONY: pause
pause: ## pause the monthly DAG: no scheduled run on the 16th until make unpause (docs/manual-it.md §1)
	@$(PY) -m mimamori.stack pause

.PHONY: unpause
unpause: ## unpause the monthly DAG (as set-up leaves it): the scheduler runs it on the 16th
	@$(PY) -m mimamori.stack unpause

##@ Data
.PHONY: town
town: setup ## generate a synthetic town: make town SCALE=1 MONTHS=3 SEED=42 OUT=dir (more MONTHS, same first month: the same town continued)
	$(PY) -m mimamori.synth --out $(OUT) --seed $(SEED) --scale $(SCALE) --months $(MONTHS) --end-month $(MONTH)

.PHONY: run-month
run-month: setup ## run the monthly DAG now (airflow dags test) for MONTH on the current inbox
	$(PY) -m mimamori.demo --run-only --end-month $(MONTH) --months 1

.PHONY: dbt-build
dbt-build: setup ## dbt build for MONTH against the local warehouse
	$(PY) -c "import sys; from mimamori.settings import get_settings; from mimamori import dbt; sys.exit(dbt.run(get_settings(), ['build'], run_month='$(MONTH)').returncode)"

.PHONY: match
match: $(LOCAL)/venv/airflow/.synced env ## link two CSVs or dedupe one: make match LEFT=a.csv [RIGHT=b.csv] MAPPING=m.yml [PAIRS=pairs.csv] (starts PostgreSQL)
	$(PY) -m mimamori.identity.match --left $(LEFT) $(if $(RIGHT),--right $(RIGHT)) --mapping $(MAPPING) --out $(or $(PAIRS),pairs.csv)

.PHONY: estimate-weights
estimate-weights: setup ## propose match weights estimated from MONTH's data (a reviewed seed diff, never applied by itself)
	$(PY) -m mimamori.identity.estimate --month $(MONTH) $(if $(wildcard $(OUT)/truth/$(MONTH)/records.csv),--truth $(OUT)/truth/$(MONTH)/records.csv)

.PHONY: eval-identity
eval-identity: setup ## precision/recall of identity links against the demo town's ground truth (after make demo)
	$(PY) -m mimamori.identity.evaluate --truth $(OUT)/truth/$(MONTH)/records.csv --month $(MONTH) --by-file

.PHONY: docs
docs: setup ## regenerate dbt docs for MONTH into the local docs site
	$(PY) -c "from mimamori.settings import get_settings; from mimamori.stack import docs; docs.generate_dbt_docs(get_settings(), '$(MONTH)')"

.PHONY: backup
backup: setup ## pg_dump of the warehouse (all schemas incl. casework) to .local/backups/
	$(PY) -m mimamori.backup backup

.PHONY: restore
restore: setup ## restore the latest backup (or FILE=...); stop the case screen and the DAG first
	$(PY) -m mimamori.backup restore $(if $(FILE),--file $(FILE))

.PHONY: disclosure
disclosure: setup ## everything held about one person (開示請求): make disclosure PERSON=宛名番号 BY=staff OUT=file.html
	$(PY) -m mimamori.disclosure --person-id $(PERSON) --requested-by $(BY) --out $(OUT)

.PHONY: bench-febrl
bench-febrl: $(LOCAL)/venv/airflow/.synced env ## FEBRL 3/4 through make match's code and Splink, with and without soc_sec_id → docs/benchmarks-febrl.md
	$(PY) -m mimamori.bench.febrl

.PHONY: bench-learning
bench-learning: setup ## current rule vs single-town and pooled proposals on 5 held-out synthetic towns (docs/evaluation.md §5; hours on 2 cores; smaller: FIRST=6 SCALE=0.25; other towns: BENCH_ARGS='--town N=DIR …')
	@mkdir -p $(LOCAL)/bench/learning
	nice -n 10 $(PY) -m mimamori.bench.learning $(if $(MONTHS),--months $(MONTHS)) $(if $(FIRST),--first $(FIRST)) $(if $(SCALE),--scale $(SCALE)) $(BENCH_ARGS) --out $(LOCAL)/bench/learning/results$(if $(MONTHS)$(FIRST)$(SCALE),-m$(MONTHS)-f$(FIRST)-s$(SCALE)).md

.PHONY: bench
bench: setup ## measure the month stage by stage at scales 1, 10, 100 and identity vs Splink → docs/benchmarks.md (about an hour)
	$(PY) -m mimamori.bench $(if $(SCALES),--scales $(SCALES))

##@ Quality
.PHONY: lint
lint: setup ## ruff (lint + format check) and sqlfluff (the dbt SQL, .sqlfluff): the checks the suite and the git hooks run
	$(PY) -m mimamori.lint

.PHONY: scaffold
scaffold: $(LOCAL)/venv/airflow/.synced ## regenerate the dbt scaffolding from the source registry (staging, linked views, record list, facts union)
	$(PY) -m mimamori.scaffold

.PHONY: hooks
hooks: setup ## install the git pre-commit hooks (.pre-commit-config.yaml: local hooks, the locked ruff and sqlfluff)
	$(LOCAL)/venv/dbt/bin/pre-commit install

.PHONY: compose-config
compose-config: setup ## validate docker-compose.yml with Docker Compose v2
	$(PY) -m mimamori.stack.compose

.PHONY: clean
clean: down ## remove all local state (.local/: database, venvs, logs, mail)
	rm -rf $(LOCAL)
