# Two entry points for a fresh Debian machine: `make run` and `make test`.
# Each creates .venv, installs what is missing (RabbitMQ included where the
# machine allows) and then does its job.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
EXAMPLE ?= topologies/12-broker-failure-rabbitmq.topo.yaml

.PHONY: run test setup system bytecode lint clean

run: setup
	@$(VENV)/bin/labgui $(EXAMPLE); rc=$$?; \
	  if [ $$rc -eq 2 ] && [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then exit 0; else exit $$rc; fi

# Four workers keep both cores busy (about 1,100 CPU-s in 11.5 min, most of it in
# the nodes and RabbitMQ it starts, docs/performance.md); five made RabbitMQ cluster failovers
# miss their timing. Tests of one file stay on one worker, so a file's shared broker boots once.
test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n 4 --dist loadfile --no-loadscope-reorder

setup: system $(VENV)/.installed bytecode

# The project's bytecode, compiled once here as pip does for an installed package: with
# PYTHONDONTWRITEBYTECODE set (as some shells do) every node, CLI and worker process would
# otherwise compile the sources again at each start (about a third of a node's start-up CPU).
# Python reads it either way; only what changed since is compiled again.
bytecode: $(VENV)/.installed
	@$(PY) -m compileall -q engines labgui

system:
	@bash scripts/setup-system.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $@

lint: setup
	$(VENV)/bin/ruff check engines labgui tests bench scripts
	$(VENV)/bin/lint-imports
	$(PY) -m mypy engines labgui

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
	find engines labgui -name __pycache__ -type d -prune -exec rm -rf {} +
