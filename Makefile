# TechScreen: one command to run the service, one to run the tests.
#
#   make run                      set up .venv, migrate, ensure a dev API key, start gunicorn
#   make test                     set up .venv (dev requirements), run the test suite
#   make demo FILE=path.jsonl     post a job description to the running service, print the interview
#   make worker                   run a Celery worker for async jobs (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)
#   make docs                     serve the documentation site at http://127.0.0.1:8001
#
# Needs Python 3.11 (python3.11, or python3 if that is 3.11+). Override with PYTHON=/path/to/python.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   ?= .venv
VPY    := $(VENV)/bin/python
PIP    := $(VPY) -m pip --disable-pip-version-check
export PIP_NO_INPUT := 1

# Stamps: requirements are reinstalled only when a requirements file changes.
RUNTIME_STAMP := $(VENV)/.installed-requirements
DEV_STAMP     := $(VENV)/.installed-requirements-dev

.PHONY: help run test demo worker install install-dev migrate api-key lint clean docker-build docker-up docker-down docs docs-build openapi-export

help: ## Show the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VPY):
	@if [ -z "$(PYTHON)" ]; then echo "error: no python3.11 or python3 on PATH; install Python 3.11 or pass PYTHON=/path/to/python3.11" >&2; exit 1; fi
	@"$(PYTHON)" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
		echo "error: $(PYTHON) is Python $$("$(PYTHON)" -c 'import platform; print(platform.python_version())'); TechScreen needs 3.11+ (pass PYTHON=/path/to/python3.11)" >&2; exit 1; }
	@echo "==> Creating virtualenv $(VENV) with $(PYTHON)"
	@"$(PYTHON)" -m venv "$(VENV)" || { rm -rf "$(VENV)"; echo "error: could not create $(VENV) (on Debian/Ubuntu: apt-get install python3.11-venv)" >&2; exit 1; }

$(RUNTIME_STAMP): requirements.txt | $(VPY)
	@echo "==> Installing requirements.txt into $(VENV)"
	@$(PIP) install -q -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(VPY)
	@echo "==> Installing requirements-dev.txt into $(VENV)"
	@$(PIP) install -q -r requirements-dev.txt
	@touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP) ## Create .venv and install the runtime requirements

install-dev: $(DEV_STAMP) ## Create .venv and install runtime + test requirements

run: install ## Set up, migrate, ensure instance/dev-api-key, start gunicorn (PORT, HOST, DATABASE_URL honoured)
	@bin/run

# make exits 2 whenever pytest fails; bin/test alone returns pytest's own exit code.
test: install-dev ## Run the test suite (TEST_DATABASE_URL=mysql+pymysql://... for MySQL/MariaDB; ARGS="-k name")
	@bin/test $(ARGS)

demo: ## Post a JD to the running service: make demo FILE=../shared/data/job_descriptions.jsonl [LINE=3] [URL=...] [KEY=...]
	@if [ -z "$(FILE)" ]; then echo "usage: make demo FILE=path/to/jd.jsonl|.json|.txt [LINE=N] [URL=http://127.0.0.1:8000] [KEY=...]" >&2; exit 2; fi
	@bin/demo "$(FILE)" $(if $(LINE),--line "$(LINE)") $(if $(URL),--url "$(URL)") $(if $(KEY),--key "$(KEY)")

# The web service needs the same CELERY_BROKER_URL to send its jobs here (without it, it runs them itself).
worker: ## Run a Celery worker for async jobs: CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker [ARGS="-c 4"]
	@if [ -z "$(CELERY_BROKER_URL)" ]; then \
		echo "error: CELERY_BROKER_URL is not set. A worker takes its jobs from the broker the web service sends them to:" >&2; \
		echo "       CELERY_BROKER_URL=redis://127.0.0.1:6379/0 make worker   (and the same CELERY_BROKER_URL for make run)" >&2; \
		echo "       Without a broker, make run runs jobs in the web process and needs no worker (docs/jobs-and-webhooks.md)." >&2; \
		exit 2; fi
	@$(MAKE) --no-print-directory install
	@CELERY_BROKER_URL="$(CELERY_BROKER_URL)" exec $(VENV)/bin/celery -A worker worker --loglevel=INFO $(ARGS)

migrate: install ## Apply database migrations (flask db upgrade)
	@$(VENV)/bin/flask --app app db upgrade

api-key: install ## Create an API key: make api-key ROLE=recruiter NAME=greenhouse-sync
	@$(VENV)/bin/flask --app app api-keys create --role "$(or $(ROLE),recruiter)" --name "$(or $(NAME),$(USER)-$(or $(ROLE),recruiter))"

# The API reference page is rendered from the app's own OpenAPI document, exported first (never committed).
openapi-export: install-dev
	@NO_MKDOCS_2_WARNING=1 $(VENV)/bin/flask --app app openapi write --format=json docs/openapi.json 2>/dev/null

docs: openapi-export ## Serve the documentation site at http://127.0.0.1:8001 (DOCS_ADDR=host:port)
	@NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr "$${DOCS_ADDR:-127.0.0.1:8001}"

docs-build: openapi-export ## Build the documentation site strictly into site/ (as CI does)
	@NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

lint: install-dev ## Run ruff
	@$(VENV)/bin/ruff check .

clean: ## Remove .venv and caches (keeps instance/: database and dev key)
	rm -rf "$(VENV)" .pytest_cache .ruff_cache site docs/openapi.json
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

docker-build: ## Build the container image (needs a Docker engine)
	docker build -t techscreen .

docker-up: ## Start MySQL 8 and the app with docker compose (needs ANTHROPIC_API_KEY)
	docker compose up --build -d

docker-down: ## Stop the compose stack (keeps the MySQL volume)
	docker compose down
