"""Research code, never shipped: the thesis study (ablate.py, vq.py; docs/thesis.md), the
sampler sweep on a corpus, the exposure-bias measurement, and growing a trained model."""
