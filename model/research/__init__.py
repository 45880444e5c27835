"""Research code, never shipped: the thesis study (ablate.py, vq.py; docs/thesis.md), the
sampler sweep on a corpus, the exposure-bias measurement, and growing a trained model.

The study's variants subclass or wrap the core instead of adding options to it:
- network.py: ResearchConfig (ModelConfig plus image_input="vq", codebook_size, vq_embed and
  image_attention="causal", with RESEARCH_DEFAULTS: at their defaults it is the shipped model
  and to_dict() leaves them out), ResearchModel (UnifiedModel reading finished images as codes
  and/or with the causal-in-image attention rule), the causal rule's attention_mask, and
  load_model / load_runtime for checkpoints of the study (the core loader refuses those, naming
  this package);
- train.py: model.train's training with that config and network, and --vq_codebook /
  install_codebook (the codebook a VQ run starts with);
- export.py refuses a model with any variant on (ResearchConfig.research_only).
Rollout inputs (--rollout_fraction) and --edge_weight stay in model/train.py: the shipped models
were trained with rollout.
"""
