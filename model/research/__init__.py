"""Research code, never shipped: the thesis study (ablate.py, vq.py; docs/thesis.md), the
sampler sweep on a corpus, the exposure-bias measurement, and growing a trained model.

What of it still lives in the core, because the study's checkpoints and results were made
through it and moving it means building the network from a second class (issue 29):
- ModelConfig's image_input="vq", codebook_size, vq_embed and image_attention="causal", with
  RESEARCH_DEFAULTS (network/transformer.py): the codebook input path of UnifiedModel; at their
  defaults a model is the shipped one and to_dict() leaves them out;
- attention_mask's image_attention="causal" (network/sequence.py), passed on by the sampler;
- train.py's --vq_codebook and install_codebook (the codebook a VQ run starts with);
- export.py refuses a model with any of them on (ModelConfig.research_only).
Rollout inputs (--rollout_fraction) and --edge_weight stay in train.py: the shipped models
were trained with rollout.
"""
