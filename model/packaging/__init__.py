"""Model packages (docs/model-package.md): export to ONNX, the manifest, a package's weights read
back as a checkpoint, the int8 variant, compaction of the graphs, the sampler settings."""
