# Two entry points: `make demo` and `make test`. Both create .venv and install the
# project into it first (torch/torchvision pinned to the releases the CI machine has).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
DEMO_OUT ?= demo_data

.PHONY: install test demo clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PINS)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

demo: install
	$(BIN)/raindata synth --demo --out $(DEMO_OUT) --resume
	$(BIN)/raindata verify demo $(DEMO_OUT)

clean:
	rm -rf $(VENV) $(DEMO_OUT) results .pytest_cache .ruff_cache *.egg-info
