"""The unified text-and-image model: one Transformer that reads and writes text tokens and raw
image patches (docs/model-package.md is the contract with the TypeScript services).

Read first, nanoGPT-short: network/transformer.py (the network), train.py (training),
sample.py (drawing and describing with a checkpoint). Then:

    network/     the Transformer, the sequence layout of text and patches, the tokenizer, contexts
    sampling/    flow matching (diffusion.py) and the batched sampler with a KV cache (inference.py)
    data/        Shapes64 and its edits and dialogues, image-text corpora, the emoji corpus
    packaging/   export to an ONNX package, its manifest, weights read back, int8, compaction
    evaluation/  scores and the evaluation commands
    research/    the thesis study, the sweeps and the exposure-bias measurement (never shipped)

Commands are modules: `python -m model.train --help`, `python -m model.packaging.export --help`, ...
"""
