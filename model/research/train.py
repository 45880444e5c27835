"""model.train for the thesis study's variants (docs/thesis.md): the same training, with the
research fields on the command line (--model.image_input="vq", --model.codebook_size,
--model.vq_embed, --model.image_attention="causal") and the codebook a VQ run starts with.

    python -m model.research.train --model.image_input="vq" --model.codebook_size=1024 \\
        --vq_codebook=model/runs/thesis/tokenizers/shapes64-k1024.npz --out_dir=...

Every other option is model.train's (python -m model.research.train --help lists them all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from model import train
from model.cli import overrides, parse
from model.research.network import ResearchConfig, ResearchModel

ResearchModelOverrides = overrides(ResearchConfig)


@dataclass
class ResearchTrainConfig(train.TrainConfig):
    # ResearchConfig overrides (--model.image_input="vq", ...) for a fresh model.
    model: ResearchModelOverrides = field(default_factory=ResearchModelOverrides)
    # A research model reading finished images as codes (--model.image_input="vq"): the codebook
    # file model/research/vq.py wrote, fixed for the run (a resumed run keeps its own).
    vq_codebook: str = ""


def parse_args(argv: list[str] | None) -> ResearchTrainConfig:
    return parse(ResearchTrainConfig, argv, description=__doc__)


def install_codebook(model: ResearchModel, path: str) -> None:
    """Copies a model/research/vq.py codebook into a fresh VQ model (it must match the model's shape)."""
    from model.research.vq import load_codebook

    if not path:
        raise SystemExit("--model.image_input=vq needs --vq_codebook=<file from model/research/vq.py>")
    cb = torch.from_numpy(load_codebook(path))
    if tuple(cb.shape) != tuple(model.codebook.shape):
        raise SystemExit(
            f"{path}: codebook {tuple(cb.shape)}, the model wants {tuple(model.codebook.shape)} "
            "(--model.codebook_size and the patch size must match the tokenizer)"
        )
    model.codebook.copy_(cb)


def on_fresh(model: ResearchModel, tcfg: ResearchTrainConfig) -> None:
    if model.cfg.image_input == "vq":
        install_codebook(model, tcfg.vq_codebook)


def main(argv: list[str] | None = None) -> None:
    train.main(argv, parse_config=parse_args, config=ResearchConfig, network=ResearchModel, on_fresh=on_fresh)


if __name__ == "__main__":
    main()
