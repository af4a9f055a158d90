# Two entry points: `make demo` and `make test`. Both create .venv and install the
# project into it first (torch/torchvision pinned to the releases the CI machine has).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
DEMO_DATA ?= data/demo
DEMO_RESULTS ?= results/demo
PRENET_WEIGHTS ?=
DEMO_WEIGHTS ?= models/weights/udrdr_demo_f3.pt
DEMO_FIGURE_IMAGES ?= 2,17
comma := ,

.PHONY: install test demo clean

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_PINS)
	$(BIN)/python -m pip install --quiet -e '.[test,plots]'
	touch $@

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

demo: install
	$(BIN)/raindata synth --demo --out $(DEMO_DATA) --resume
	$(BIN)/raindata verify demo $(DEMO_DATA)
	$(BIN)/benchmark run --method input,udrdr --weights udrdr=$(DEMO_WEIGHTS) --dataset demo \
		--data-root $(DEMO_DATA) --results $(DEMO_RESULTS) --save-images
ifneq ($(PRENET_WEIGHTS),)
	$(BIN)/benchmark run --method prenet --weights $(PRENET_WEIGHTS) --dataset demo \
		--data-root $(DEMO_DATA) --results $(DEMO_RESULTS) --save-images
endif
	$(BIN)/benchmark table --results $(DEMO_RESULTS) --layout table1 --format markdown
	$(BIN)/benchmark figure --results $(DEMO_RESULTS) --dataset demo --data-root $(DEMO_DATA) \
		--images $(DEMO_FIGURE_IMAGES) --methods input,udrdr$(if $(PRENET_WEIGHTS),$(comma)prenet) \
		--out $(DEMO_RESULTS)-figure
	$(BIN)/benchmark report --results $(DEMO_RESULTS) --out $(DEMO_RESULTS)-report
	@echo "figure: $(DEMO_RESULTS)-figure.png (and .pdf)"
	@echo "report: $(DEMO_RESULTS)-report/index.html (open it in a browser)"

clean:
	rm -rf $(VENV) $(DEMO_DATA) $(DEMO_RESULTS) $(DEMO_RESULTS)-figure.* $(DEMO_RESULTS)-report \
		.pytest_cache .ruff_cache *.egg-info
