"""Flow matching on raw patches (diffusion.py) and the batched sampler over the network with a
KV cache: text decoding and guided denoising steps (inference.py)."""
