# The two commands of the README. Both create the virtual environment on first use
# (tools/setup_env.sh; the mmcv build is cached per machine in ~/.cache/mmorcnn/wheels).
#   make demo   generate the synthetic data, train ORCNN with `mim train`, evaluate it with
#               `mim test` (amodal metric), write overlays of a few validation images
#               (ground truth | prediction) and their contact sheet
#   make test   run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
MIM := $(VENV)/bin/mim
DATA ?= data/synthetic_amodal
# the AmodalMRCNN baseline: DEMO_CONFIG=configs/amodal_mask_rcnn/amodal-mask-rcnn_r18_fpn_tiny_synthetic.py
DEMO_CONFIG ?= configs/orcnn/orcnn_r18_fpn_tiny_synthetic.py
DEMO_WORK_DIR ?= work_dirs/demo
# `mim test` evaluates the checkpoint; no second evaluation at the end of training
DEMO_TRAIN_OPTIONS ?= train_cfg.val_begin=1000000000
PYTEST_ARGS ?=

.PHONY: env demo test data clean-demo

env: $(VENV)/.mmorcnn-env-ok

$(VENV)/.mmorcnn-env-ok: tools/setup_env.sh setup.py requirements.txt $(wildcard requirements/*.txt)
	bash tools/setup_env.sh $(VENV)

data: env
	@if [ -f $(DATA)/annotations/val.json ]; then \
	  echo "[demo] using the synthetic dataset in $(DATA)"; \
	else \
	  $(PY) tools/dataset_converters/make_synthetic_amodal.py $(DATA); \
	fi

# mim, mmengine and mmcv import pkg_resources, which the setuptools they need (< 81) marks deprecated
# with a UserWarning in every process; mmorcnn hides it in its own, this hides it in mim's.
demo: export PYTHONWARNINGS = ignore:pkg_resources is deprecated:UserWarning
demo: data
	@start=$$(date +%s); \
	$(MIM) train mmorcnn $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR) \
	    --cfg-options $(DEMO_TRAIN_OPTIONS) && \
	ckpt=$$(cat $(DEMO_WORK_DIR)/last_checkpoint) && \
	$(MIM) test mmorcnn $(DEMO_CONFIG) --checkpoint $$ckpt --work-dir $(DEMO_WORK_DIR)/test \
	    --cfg-options test_evaluator.plot_dir=$(DEMO_WORK_DIR)/test && \
	$(PY) tools/demo/image_demo.py $(DATA)/val $(DEMO_CONFIG) $$ckpt \
	    --ann-file $(DATA)/annotations/val.json \
	    --out-dir $(DEMO_WORK_DIR)/overlays --limit 8 --device cpu && \
	echo "[demo] overlays (ground truth | prediction; amodal masks by class, invisible parts" && \
	echo "[demo] highlighted): $(DEMO_WORK_DIR)/overlays/vis/, all in one grid:" && \
	echo "[demo] $(DEMO_WORK_DIR)/overlays/contact_sheet.png; per-instance amodal/visible/" && \
	echo "[demo] invisible RLE JSON: $(DEMO_WORK_DIR)/overlays/preds/; precision-recall curves:" && \
	echo "[demo] $(DEMO_WORK_DIR)/test/pr_curves.png" && \
	$(PY) tools/analysis_tools/demo_summary.py $(DEMO_WORK_DIR) --started-at $$start

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean-demo:
	rm -rf $(DEMO_WORK_DIR)
