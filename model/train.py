"""Train the unified model on Shapes64 or on a corpus of image-text pairs (both directions).

    python -m model.train --out_dir=model/runs/main --minutes=100        # Shapes64, CPU, 2 cores
    python -m model.train --corpus=my/manifest.jsonl --out_dir=model/runs/mine   # a corpus (model/data/corpus.py)
    torchrun --nproc_per_node=2 -m model.train --backend=gloo ...        # data-parallel
    python -m model.train --help                                         # every option

Resumable: rerun with the same --out_dir and it continues from ckpt.pt. Writes progress
to the terminal and log.jsonl, sample grids and a loss curve to out_dir as it goes.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from model.cli import given, overrides, parse
from model.data.corpus import load_corpus
from model.data.dialogue_batch import DialogueSource, make_dialogue_batch
from model.data.dialogues import Dialogue
from model.data.examples import CorpusSource, Example, Shapes64Source, corpus_tokenizer, shapes64_example
from model.data.shapes64 import eval_split
from model.network.chat import text_targets, training_items
from model.network.sequence import Batch, attention_mask, build_row, collate, image_to_patches, patchify
from model.network.tokenizer import Tokenizer, train_default
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.weights import load_checkpoint
from model.sampling.diffusion import DiffusionConfig, euler_update, guided_x0, sample_t, step_up

ModelOverrides = overrides(ModelConfig)
RESUMABLE_MODEL_FIELDS = {"image_gap"}  # layout, not shape: a continued run may set them
DiffusionOverrides = overrides(DiffusionConfig)


@dataclass
class TrainConfig:
    out_dir: str = "model/runs/main"
    minutes: float = 100.0  # wall-clock budget of this invocation; resume continues
    max_steps: int = 100_000
    batch_size: int = 64  # per process
    lr: float = 1.5e-3
    min_lr_frac: float = 0.1
    lr_decay_steps: int = 8000  # cosine from warmup to here, then flat at min_lr
    lr_decay_start: int = 0  # a continued run: hold lr until this step, then its cosine starts
    warmup: int = 200
    weight_decay: float = 0.05
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    diffusion_weight: float = 5.0
    cond_dropout: float = 0.1
    draw_fraction: float = 0.6  # drawing is the harder direction
    # Draws whose image is clean (noise level 0), as the worker puts a finished image back in
    # the context before the text resumes: without them the model reads t = 0 as a user's
    # input image (describe) and, after <eoi>, captions it instead of ending the answer.
    clean_draw_fraction: float = 0.05
    # Extra weight of the diffusion loss on pixels at an object's edge (either side of it).
    # Corners and thin strokes are a few pixels of a 4,096-pixel image, so a plain mean
    # squared error barely notices when they come out rounded or thin.
    edge_weight: float = 0.0
    # Extra weight on ink: pixels far from the image's background colour. A small object is
    # about 100 of 4,096 pixels, so a one- or two-step student (issue 30) that leaves it out
    # or smears it barely moves a plain mean, and the teacher's small objects are what it lost.
    ink_weight: float = 0.0
    # Exposure bias (Ning et al. 2023): the sampler feeds the network its own earlier
    # prediction, never a true noisy image. This fraction of the drawn images (those whose
    # previous sampler step is unguided, or all with rollout_guided) get as input, instead of
    # the true noisy image at t, one Euler step to t from the step above on the sampler's grid,
    # taken with the network's own prediction there (no gradient); the target stays the true
    # image, so the network learns to correct what its previous step got wrong. Costs one more
    # forward pass.
    rollout_fraction: float = 0.0
    # Rollout inputs for the guided steps too (t_hi in the guidance interval): the step from above
    # is taken as the sampler takes it, with classifier-free guidance, which costs a forward pass
    # of the unconditional rows as well. Those high-noise steps set an image's layout and outline,
    # and a guided prediction (guidance 6 extrapolates far past the conditional one) is what the
    # next step is fed at sampling time.
    rollout_guided: bool = False
    eval_every: int = 500
    eval_n: int = 64  # per direction, quick eval during training
    ckpt_every: int = 200
    log_every: int = 10
    seed: int = 1
    threads: int = 0  # 0: torch's default
    bf16: bool = True
    backend: str = "gloo"
    # "cuda" trains on a GPU, one a process under torchrun (with --backend=nccl). Rows are built
    # on the CPU: at a GPU's batch sizes, build them in loader_workers processes ahead of the
    # step, or that building, not the GPU, sets the pace.
    device: str = "cpu"
    loader_workers: int = 0  # 0: batches are built in the training loop
    # a slim checkpoint (model/packaging/slim.py) or a package folder to start from when out_dir has none
    init_from: str = ""
    # Train only the parameters whose names match this regular expression; the rest stay
    # frozen (e.g. "pixel_head" teaches a pixel head added by grow.py, leaving the rest as it was).
    train_only: str = ""
    # A corpus manifest (model/data/corpus.py) instead of Shapes64; its tokenizer is learned from
    # its text with up to `merges` BPE merges.
    corpus: str = ""
    merges: int = 800
    style_free_fraction: float = 0.25  # corpus draws whose prompt leaves the style open
    augment_fraction: float = 0.0  # corpus describes that read a shifted/scaled/blurred image
    # which (model/data/examples.py): "mild", "style" (palette, line work, shading too) or "parts"
    # (and parts' colours, detail)
    augmentation: str = "mild"
    # "shapes64": train on conversations (model/data/shapes64_dialogues.py: draw, describe, edit,
    # several turns, refusals) instead of the two one-turn directions.
    conversations: str = ""
    length_buckets: int = 1  # micro-batches of rows of similar length (conversations: 3)
    # conversations: high_noise_share of the answers decided by their context (an image earlier, words
    # before the image: dialogue_batch.decided_by_context) get t from U(high_noise_from, 1) (1: off)
    high_noise_from: float = 1.0
    high_noise_share: float = 0.5
    # ... and this share of the plain one-turn draws too: the draws' own top levels, which a
    # conversation run's new formats take capacity from (docs/conversations.md)
    high_noise_draw_share: float = 0.0
    # shapes64 conversations: relative weights of edit kinds, "move=3" (the rest 1; empty: uniform)
    edit_weights: str = ""
    # conversations: tasks' shares of a batch, "multi_turn=0.3,edit=0.25" (the rest as the data
    # set's TRAIN_MIX has them; all must add up to 1; empty: TRAIN_MIX)
    task_mix: str = ""
    # A few-step student (issue 30): a folder of teacher pairs (python -m model.distill.pairs)
    # over the --conversations mix; the images are learned from the pairs, the text from the
    # mix's text answers, this share of each batch.
    distill_pairs: str = ""
    distill_text_fraction: float = 0.25
    # Only the pairs the teacher got right, where the data set can score them (model/distill/judges.py)
    distill_right_only: bool = False
    # What a pair's image trains on (model/distill/targets.py): `teacher`, its sample; `exact`, the
    # data's own image where the question fixes every pixel of the answer (a Shapes64 edit), the
    # teacher's sample elsewhere; `redrawn`, as exact, and elsewhere the teacher's layout drawn by
    # the data set's renderer
    distill_targets: str = "teacher"
    # How often each task's pairs are drawn (`draw=2`), the others weighing 1
    distill_task_weights: str = ""
    # The step counts the student learns, of those its pairs were made for ("1": one step's level
    # only; empty: every level the pairs hold)
    distill_steps: str = ""
    # The teacher (a package or checkpoint) whose weights read everything but the image being
    # denoised: the student learns only to denoise on top of its cache, and ships as the
    # package's denoise graph beside the teacher's serving graph (model/distill/split.py). Its
    # batches are pairs only (no text share): the student's weights never run a text position.
    distill_reader: str = ""
    # The pseudo-Huber constant c of a --distill_reader student's x0 loss, sqrt(e^2 + c^2) - c
    # (0: the squared error)
    distill_huber: float = 0.0
    # ModelConfig overrides (--model.d_model=...) for a fresh model; a resumed one keeps its shape.
    model: ModelOverrides = field(default_factory=ModelOverrides)
    # DiffusionConfig overrides (--diffusion.t_mean=...), over a resumed checkpoint's too.
    diffusion: DiffusionOverrides = field(default_factory=DiffusionOverrides)

    def to_dict(self) -> dict:
        """As a checkpoint stores it: the overrides only as given (the form older checkpoints have)."""
        return {**asdict(self), "model": given(self.model), "diffusion": given(self.diffusion)}


def parse_args(argv: list[str]) -> TrainConfig:
    return parse(TrainConfig, argv, description=__doc__)


def edge_map(img: np.ndarray) -> np.ndarray:
    """bool [H, W]: pixels whose colour differs from a 4-neighbour's, on both sides of an edge."""
    diff_y = (img[1:] != img[:-1]).any(-1)
    diff_x = (img[:, 1:] != img[:, :-1]).any(-1)
    edge = np.zeros(img.shape[:2], bool)
    edge[1:] |= diff_y
    edge[:-1] |= diff_y
    edge[:, 1:] |= diff_x
    edge[:, :-1] |= diff_x
    return edge


INK_DISTANCE = 48  # a channel this far from the background's is ink (anti-aliased rims included)


def ink_map(img: np.ndarray) -> np.ndarray:
    """bool [H, W]: pixels whose colour is far from the background's, taken as the median
    colour of the image's one-pixel frame (a generated image's background is not exactly flat)."""
    frame = np.concatenate([img[0], img[-1], img[1:-1, 0], img[1:-1, -1]]).astype(np.int16)
    background = np.median(frame, axis=0)
    return (np.abs(img.astype(np.int16) - background) > INK_DISTANCE).any(-1)


def pixel_weights(img: np.ndarray, edge_weight: float, patch: int, ink_weight: float = 0.0) -> np.ndarray:
    """Per-value weights of the diffusion loss, in the patch layout of the image's patches."""
    w = np.ones(img.shape, np.float32)
    if edge_weight:  # the default 0 skips the edge map, on every draw of every step
        w += edge_weight * edge_map(img)[..., None]
    if ink_weight:
        w += ink_weight * ink_map(img)[..., None]
    return patchify(w, patch)


def make_batch(
    tok: Tokenizer,
    mcfg: ModelConfig,
    dcfg: DiffusionConfig,
    tcfg: TrainConfig,
    examples: list[int] | list[Example],
    gen: torch.Generator,
):
    """Examples (or Shapes64 seeds) -> model inputs, text targets, the diffusion target and its
    per-value loss weights. The first draw_fraction of them are drawn, the rest described."""
    if examples and isinstance(examples[0], Dialogue):
        return make_dialogue_batch(tok, mcfg, dcfg, tcfg, examples, gen, pixel_weights)
    examples = [shapes64_example(e) if isinstance(e, int) else e for e in examples]
    n_draw = round(len(examples) * tcfg.draw_fraction)
    t_all = sample_t(len(examples), dcfg, gen)
    drop = torch.rand(len(examples), generator=gen) < tcfg.cond_dropout
    clean_draw = torch.rand(len(examples), generator=gen) < tcfg.clean_draw_fraction
    rows, targets, clean = [], [], []
    for i, ex in enumerate(examples):
        direction = "draw" if i < n_draw else "describe"
        img = ex.image if direction == "draw" else ex.describe_image
        x0 = image_to_patches(img, mcfg.patch_size)
        if direction == "draw":
            noise = torch.randn(x0.shape, generator=gen).numpy()
            t = 0.0 if clean_draw[i] else float(t_all[i])
            patches = ((1 - t) * x0 + t * noise).astype(np.float32)
        else:
            t, patches = 0.0, x0
        text = ex.draw_text if direction == "draw" else ex.caption
        items = training_items(tok, direction, text, patches, t, bool(drop[i]))
        row, _ = build_row(items, 0, mcfg.grid, tok.pad, mcfg.patch_dim, mcfg.image_gap)
        rows.append(row)
        targets.append(text_targets(row.tokens, row.is_image, tok.assistant))
        draw = direction == "draw"
        weights = pixel_weights(img, tcfg.edge_weight, mcfg.patch_size, tcfg.ink_weight) if draw else None
        clean.append((x0, weights))
    b = collate(rows, tok.pad, mcfg.patch_dim)
    T = b.tokens.shape[1]
    tgt = torch.full((len(examples), T), -100, dtype=torch.long)
    x0_target = torch.zeros_like(b.patches)
    diff_weight = torch.zeros_like(b.patches)  # 0 where no diffusion loss applies
    for i, (tg, (x0, weights)) in enumerate(zip(targets, clean)):
        tgt[i, : len(tg)] = torch.tensor(tg)
        if weights is not None:
            pos = (b.is_image[i] > 0).nonzero().squeeze(-1)
            x0_target[i, pos] = torch.from_numpy(x0)
            diff_weight[i, pos] = torch.from_numpy(weights)
    return b, tgt, x0_target, diff_weight


class StepBatches(torch.utils.data.IterableDataset):
    """The batches of steps `start`, `start` + 1, ... up to max_steps, each from its own
    generator seeded by the step, so a step's batch is the same whichever process builds it.
    With --loader_workers=n, worker k builds steps k, k + n, ..., which the DataLoader hands
    back in step order; each batch comes with its generator's state, which the training step
    goes on drawing from (rollout) exactly as it would have in one process."""

    def __init__(
        self,
        source,
        tok: Tokenizer,
        mcfg: ModelConfig,
        dcfg: DiffusionConfig,
        tcfg: TrainConfig,
        start: int,
        rank: int,
        world: int,
    ):
        self.source, self.tok, self.mcfg, self.dcfg, self.tcfg = source, tok, mcfg, dcfg, tcfg
        self.start, self.rank, self.world = start, rank, world

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        k, n = (info.id, info.num_workers) if info else (0, 1)
        for step in range(self.start + k, self.tcfg.max_steps, n):
            gen = torch.Generator().manual_seed(self.tcfg.seed * 1_000_003 + step * self.world + self.rank)
            examples = self.source.examples(step, self.rank, self.world, self.tcfg.batch_size, gen)
            yield step, make_batch(self.tok, self.mcfg, self.dcfg, self.tcfg, examples, gen), gen.get_state()


def as_is(item):
    """The DataLoader's collate function: a StepBatches item is a whole batch already."""
    return item


def mask_rule(model):
    """The model's attention rule (a research variant may have its own); a stand-in network
    without one (as in tests) gets the core's."""
    return getattr(model, "attention_mask", attention_mask)


def training_loss(net, model: UnifiedModel, b, tgt, x0_target, diff_weight, tcfg: TrainConfig):
    """Cross-entropy on the assistant's text plus the x0 regression on drawn images, a weighted
    mean over their values (all weights 1 without --edge_weight: the plain mean)."""
    mask = mask_rule(model)(b.valid, b.image_id)
    pk, pv = model.empty_cache(b.tokens.shape[0], device=b.tokens.device)
    with torch.autocast(b.tokens.device.type, dtype=torch.bfloat16, enabled=tcfg.bf16):
        logits, denoised, _, _ = net(b.tokens, b.patches, b.is_image, b.noise_level, b.positions, mask, pk, pv)
    text_loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), tgt.view(-1), ignore_index=-100)
    diff_loss = (diff_weight * (denoised.float() - x0_target) ** 2).sum() / diff_weight.sum().clamp_min(1e-8)
    return text_loss + tcfg.diffusion_weight * diff_loss, text_loss, diff_loss


def reader_loss(net, reader: UnifiedModel, b, tgt, x0_target, diff_weight, tcfg: TrainConfig):
    """training_loss's triple for a --distill_reader student: its x0 loss on the reader's cache
    (model/distill/split.py), no text loss (the reader's weights say every word)."""
    from model.distill.split import denoiser_loss

    diff_loss = denoiser_loss(net, reader, b, x0_target, diff_weight, tcfg.distill_huber)
    return tcfg.diffusion_weight * diff_loss, torch.zeros((), device=diff_loss.device), diff_loss


def load_reader(tcfg: TrainConfig, mcfg: ModelConfig, tok: Tokenizer, device) -> UnifiedModel | None:
    """--distill_reader's frozen model (None without it), which must be the student's shape and
    tokenizer; refused without pairs, or with a text share (no text position is the student's)."""
    if not tcfg.distill_reader:
        return None
    if not tcfg.distill_pairs or tcfg.distill_text_fraction != 0:
        raise SystemExit("--distill_reader trains on --distill_pairs alone: give them, with --distill_text_fraction=0")
    ck = load_checkpoint(tcfg.distill_reader)
    if (
        ModelConfig.from_dict(ck["model_config"]) != mcfg
        or Tokenizer.from_json(ck["tokenizer"]).to_json() != tok.to_json()
    ):
        raise SystemExit(f"--distill_reader={tcfg.distill_reader}: not the student's shape and tokenizer")
    reader = UnifiedModel(mcfg)
    # A split student's package or checkpoint reads with its teacher's weights, not its own
    reader.load_state_dict(ck.get("reader", ck["ema"]))
    return reader.float().to(device).eval().requires_grad_(False)


def as_served(ema: UnifiedModel, reader: UnifiedModel | None):
    """The EMA weights as they sample: alone, or denoising on the reader's cache."""
    if reader is None:
        return ema
    from model.distill.split import SplitModel

    return SplitModel(reader, ema)


def length_buckets(b: Batch, tgt, x0_target, diff_weight, n: int):
    """The batch as n micro-batches of rows of similar length, each cut to its longest row, with
    each one's share of the rows: conversations range from 100 to 250 positions, and one
    batch padded to the longest spends a third of its time on padding."""
    lengths = b.valid.sum(1)
    order = torch.argsort(lengths)
    out = []
    for part in torch.tensor_split(order, n):
        if len(part) == 0:
            continue
        T = int(lengths[part].max())
        sub = Batch(*(getattr(b, f.name)[part][:, :T].contiguous() for f in dataclasses.fields(b)))
        cut = (x[part][:, :T].contiguous() for x in (tgt, x0_target, diff_weight))
        out.append((sub, *cut, len(part) / len(order)))
    return out


def unconditional_batch(
    tok: Tokenizer, b: Batch, rows: torch.Tensor, x_hi: torch.Tensor, t_hi: torch.Tensor, target: torch.Tensor
) -> Batch:
    """The drawn rows `rows` of b laid out again with the unconditional context (the sampler's
    uncond rows): the same image x_hi at level t_hi, no prompt."""
    built = []
    for i in rows.tolist():
        image = target[i]
        patches = x_hi[i][image].float().cpu().numpy()
        grid = math.isqrt(len(patches))
        items = training_items(tok, "draw", "", patches, float(t_hi[i]), drop_condition=True)
        built.append(build_row(items, 0, grid, tok.pad, patches.shape[-1])[0])
    return collate(built, tok.pad, b.patches.shape[-1]).to(b.tokens.device)


def denoise(
    model: UnifiedModel, b: Batch, patches: torch.Tensor, levels: torch.Tensor, tcfg: TrainConfig
) -> torch.Tensor:
    """The network's x0 prediction for every position of b with these image inputs (no gradient)."""
    mask = mask_rule(model)(b.valid, b.image_id)
    with torch.no_grad(), torch.autocast(b.tokens.device.type, dtype=torch.bfloat16, enabled=tcfg.bf16):
        _, x0, _, _ = model(
            b.tokens,
            patches,
            b.is_image,
            levels,
            b.positions,
            mask,
            *model.empty_cache(len(b.tokens), device=b.tokens.device),
        )
    return x0.float()


def roll_in(
    model: UnifiedModel,
    b: Batch,
    x0_target,
    diff_weight,
    dcfg: DiffusionConfig,
    tcfg: TrainConfig,
    gen: torch.Generator,
    tok: Tokenizer | None = None,
):
    """The batch with some drawn images replaced by one sampler step from above (rollout_fraction).
    With tcfg.rollout_guided (which needs tok) a step from inside the guidance interval is guided."""
    t = b.noise_level.max(dim=1).values  # [B]: a row's image's level
    t_hi = step_up(t, dcfg.default_steps, dcfg.time_shift)
    drawn = diff_weight.flatten(1).sum(1) > 0
    chosen = torch.rand(len(t), generator=gen).to(t.device) < tcfg.rollout_fraction
    lo, hi = dcfg.guidance_interval
    in_interval = (t_hi >= lo) & (t_hi <= hi) & (dcfg.default_guidance != 1.0)
    pick = drawn & (t > 0) & (t_hi > t) & chosen
    if not tcfg.rollout_guided:
        pick &= ~in_interval
    if not pick.any():
        return b
    target = diff_weight.sum(-1) > 0  # [B,T]: the row's noised image
    at = (target & pick[:, None])[..., None]  # [B,T,1]
    tt, th = t[:, None, None], t_hi[:, None, None]
    noise = (b.patches - (1 - tt) * x0_target) / tt.clamp_min(1e-6)
    x_hi = torch.where(at, (1 - th) * x0_target + th * noise, b.patches)
    level_hi = torch.where(at[..., 0], t_hi[:, None], b.noise_level)
    x0_hi = denoise(model, b, x_hi, level_hi, tcfg)
    guided = (pick & in_interval).nonzero().squeeze(-1)
    if len(guided):
        if tok is None:
            raise ValueError("guided rollout builds unconditional rows: roll_in needs the tokenizer")
        ub = unconditional_batch(tok, b, guided, x_hi, t_hi, target)
        x0_u = denoise(model, ub, ub.patches, ub.noise_level, tcfg)
        for j, i in enumerate(guided.tolist()):
            image = target[i]
            x0_hi[i, image] = guided_x0(x0_hi[i, image], x0_u[j][ub.is_image[j] > 0], dcfg.default_guidance)
    x_t = euler_update(x_hi, x0_hi, th, tt)  # per row: th, tt are [B,1,1]
    return dataclasses.replace(b, patches=torch.where(at, x_t, b.patches))


def conversation_source(tcfg: TrainConfig, corpus=None):
    """--conversations: "shapes64" (model/data/shapes64_dialogues.py) or "corpus" (the emoji tasks of
    model/data/emoji_dialogues.py over --corpus); None for the two one-turn directions."""
    if tcfg.edit_weights and tcfg.conversations != "shapes64":
        raise SystemExit("--edit_weights weighs Shapes64's edits: it needs --conversations=shapes64")
    if tcfg.task_mix and not tcfg.conversations:
        raise SystemExit("--task_mix shares out a conversation mix: it needs --conversations")
    if not tcfg.conversations:
        return None
    for name in ("high_noise_share", "high_noise_draw_share"):
        if not 0 <= getattr(tcfg, name) <= 1:
            raise SystemExit(f"--{name}={getattr(tcfg, name)}: a share of the rows, from 0 to 1")
    if tcfg.conversations == "shapes64":
        from model.data import shapes64_dialogues
        from model.data.shapes64_edits import parse_edit_weights

        try:
            weights = parse_edit_weights(tcfg.edit_weights)
        except ValueError as err:
            raise SystemExit(f"--edit_weights: {err}") from None
        mix = task_mix(tcfg, shapes64_dialogues.TRAIN_MIX)
        # Without either flag these are TRAIN_MIX's unweighted dialogues, those distillation pairs are made from
        make = functools.partial(shapes64_dialogues.training_dialogues, edit_weights=weights or None, mix=mix)
        return DialogueSource(make)
    if tcfg.conversations == "corpus" and corpus is not None:
        from model.data import emoji_dialogues
        from model.data.examples import AUGMENTATIONS

        drawn = {corpus.styles[i] for i in corpus.indices("train")}
        styles = sorted(drawn - {*emoji_dialogues.SOURCE_ONLY_STYLES, None})
        d = emoji_dialogues.EmojiDialogues(
            corpus, styles, AUGMENTATIONS[tcfg.augmentation], tcfg.augment_fraction, tcfg.style_free_fraction
        )
        return DialogueSource(functools.partial(d.training_dialogues, mix=task_mix(tcfg, emoji_dialogues.TRAIN_MIX)))
    raise SystemExit(f"--conversations={tcfg.conversations}: want shapes64, or corpus with --corpus")


def task_mix(tcfg: TrainConfig, base: dict[str, float]) -> dict[str, float]:
    """--task_mix over a data set's TRAIN_MIX (model/data/dialogues.py parse_task_mix)."""
    from model.data.dialogues import parse_task_mix

    try:
        return parse_task_mix(tcfg.task_mix, base)
    except ValueError as err:
        raise SystemExit(f"--task_mix: {err}") from None


def distill_source(tcfg: TrainConfig, corpus, mcfg: ModelConfig, time_shift: float):
    """--distill_pairs: the student's dialogues (model/distill/source.py); None without it."""
    if not tcfg.distill_pairs:
        return None
    if tcfg.edit_weights:  # the pairs hold the dialogues a seed gave by their mix
        raise SystemExit("--edit_weights changes the dialogues the pairs were made from: leave it out")
    mix = conversation_source(tcfg, corpus)
    if mix is None:
        raise SystemExit("--distill_pairs needs the --conversations mix its pairs were made from")
    from model.distill.pairs import load_meta
    from model.distill.source import DistillSource

    # The same seeds give the same dialogues only from the same mix (its task shares too)
    meta = load_meta(tcfg.distill_pairs)
    made_from = {k: meta.get(k, "") for k in ("conversations", "corpus", "task_mix")}
    if made_from != {"conversations": tcfg.conversations, "corpus": tcfg.corpus, "task_mix": tcfg.task_mix}:
        raise SystemExit(f"{tcfg.distill_pairs} was made from {made_from}: train with the same mix")

    judge = None
    if tcfg.distill_right_only:
        from model.distill.judges import JUDGES

        if tcfg.conversations not in JUDGES:
            raise SystemExit(f"--distill_right_only: no judge of {tcfg.conversations} images (model/distill/judges.py)")
        judge = JUDGES[tcfg.conversations]
    from model.distill.targets import TARGET_CHOICES, TARGET_RULES

    if tcfg.distill_targets not in TARGET_CHOICES:
        raise SystemExit(f"--distill_targets={tcfg.distill_targets}: one of {', '.join(TARGET_CHOICES)}")
    rules = None
    if tcfg.distill_targets != "teacher":
        if tcfg.conversations not in TARGET_RULES:
            raise SystemExit(f"--distill_targets: no {tcfg.conversations} rules (model/distill/targets.py)")
        rules = TARGET_RULES[tcfg.conversations]
    source = DistillSource(
        tcfg.distill_pairs,
        mix.make,
        mcfg.patch_size,
        tcfg.distill_text_fraction,
        judge,
        tcfg.distill_task_weights,
        tcfg.distill_steps,
        time_shift,
        rules,
        tcfg.distill_targets == "redrawn",
    )
    print(
        f"distillation: {len(source)} of {len(source.pairs['index'])} pairs, {len(source.exact)} on the data's image,"
        f" {len(source.redrawn)} redrawn",
        flush=True,
    )
    return source


def init_checkpoint(tcfg: TrainConfig) -> dict:
    """--init_from's weights. A split student (a checkpoint or package with a `reader`,
    model/distill/split.py) starts a distillation run (--distill_reader) from its own weights,
    and any other run from its reader's: the whole model, which its own weights are not."""
    ck = load_checkpoint(tcfg.init_from)
    if "reader" not in ck or tcfg.distill_reader:
        return ck
    print(f"{tcfg.init_from}: a split student; starting from its reader's weights (the whole model)", flush=True)
    reader = ck.pop("reader")
    return {**ck, "model": reader, "ema": dict(reader)}


def lr_at(step: int, c: TrainConfig) -> float:
    if step < c.warmup:
        return c.lr * (step + 1) / c.warmup
    start = max(c.warmup, c.lr_decay_start)
    p = min(1.0, max(0, step - start) / max(1, c.lr_decay_steps - start))
    return c.lr * (c.min_lr_frac + (1 - c.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))


def save_checkpoint(path: str, state: dict) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)  # atomic: a kill mid-save never leaves a broken checkpoint


def main(
    argv: list[str] | None = None,
    *,
    parse_config=None,
    config: type[ModelConfig] = ModelConfig,
    network: type[UnifiedModel] = UnifiedModel,
    on_fresh=None,
) -> None:
    """Trains (or resumes) a model. model/research/train.py runs the study's variants through the
    keywords: its own command line (parse_config), config and network classes, and on_fresh(model,
    tcfg), called once on a fresh model before the EMA copies it."""
    tcfg = (parse_config or parse_args)(argv)
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world = 0, 1
    if ddp:
        dist.init_process_group(backend=tcfg.backend)
        rank, world = dist.get_rank(), dist.get_world_size()
    master = rank == 0
    device = torch.device(tcfg.device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = True
    if tcfg.threads:
        torch.set_num_threads(tcfg.threads)
    # Denormal floats appear in the gradients and optimizer state after a few dozen steps
    # and slow x86 CPUs several-fold; flushing them to zero costs nothing in accuracy.
    torch.set_flush_denormal(True)
    os.makedirs(tcfg.out_dir, exist_ok=True)
    ckpt_path = os.path.join(tcfg.out_dir, "ckpt.pt")

    if os.path.exists(ckpt_path):
        resume = torch.load(ckpt_path, weights_only=False, map_location="cpu")
    elif tcfg.init_from:
        resume = init_checkpoint(tcfg)
    else:
        resume = None
    corpus = (
        load_corpus(tcfg.corpus, given(tcfg.model).get("image_size", ModelConfig.image_size), log=print)
        if tcfg.corpus
        else None
    )
    if corpus is not None and master:
        if resume and resume.get("train_config", {}).get("corpus") not in (None, "", tcfg.corpus):
            print(
                f"note: this run trains on {tcfg.corpus}, its checkpoint on {resume['train_config']['corpus']}",
                flush=True,
            )
    if resume:
        tok = Tokenizer.from_json(resume["tokenizer"])
        # The model's shape comes from the checkpoint; how images are laid out may change
        # (--model.image_gap=64 starts using a fixed offset between consecutive images).
        layout = {k: v for k, v in given(tcfg.model).items() if k in RESUMABLE_MODEL_FIELDS}
        mcfg = config.from_dict({**resume["model_config"], **layout})
        # A continued run may change how noise levels are drawn (--diffusion.t_mean=...).
        dcfg = DiffusionConfig(**{**resume["diffusion_config"], **given(tcfg.diffusion)})
    else:
        tok = corpus_tokenizer(corpus, tcfg.merges) if corpus is not None else train_default()
        mcfg = config(**{**given(tcfg.model), "vocab_size": tok.vocab_size})
        dcfg = DiffusionConfig(**given(tcfg.diffusion))
    torch.manual_seed(tcfg.seed)
    model = network(mcfg).to(device)
    ema = network(mcfg).to(device)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if tcfg.train_only and not re.search(tcfg.train_only, name):
            p.requires_grad_(False)
            continue
        (decay if p.dim() >= 2 and "patch_pos" not in name else no_decay).append(p)
    trainable = decay + no_decay
    if not trainable:
        raise SystemExit(f"--train_only={tcfg.train_only} matches no parameter")
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": tcfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=tcfg.lr,
        betas=(0.9, 0.95),
    )
    step, history, opt_start = 0, [], 0
    if resume:
        model.load_state_dict(resume["model"])
        ema.load_state_dict(resume["ema"])
        step, history = resume["step"], resume.get("history", [])
        same_parameters = resume.get("train_config", {}).get("train_only", "") == tcfg.train_only
        if "optimizer" in resume and same_parameters:
            opt.load_state_dict(resume["optimizer"])
        else:  # a slim checkpoint, or other parameters trained: fresh moments, warm up again
            opt_start = step
    else:
        if on_fresh is not None:
            on_fresh(model, tcfg)
        ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    net = model
    if ddp:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if master:
        trained = sum(p.numel() for p in trainable)
        print(
            f"model: {model.num_params() / 1e6:.2f}M parameters ({trained / 1e6:.2f}M trained), "
            f"vocab {tok.vocab_size}, "
            f"{'resuming at step ' + str(step) if resume else 'from scratch'}, world {world}",
            flush=True,
        )

    def checkpoint():
        save_checkpoint(
            ckpt_path,
            {
                "model": model.state_dict(),
                "ema": ema.state_dict(),
                "optimizer": opt.state_dict(),
                "step": step,
                "history": history,
                "model_config": mcfg.to_dict(),
                "diffusion_config": asdict(dcfg),
                "train_config": tcfg.to_dict(),
                "tokenizer": tok.to_json(),
                **({"reader": reader.state_dict()} if reader is not None else {}),
            },
        )

    reader = load_reader(tcfg, mcfg, tok, device)
    source = (
        distill_source(tcfg, corpus, mcfg, dcfg.time_shift)
        or conversation_source(tcfg, corpus)
        or (
            CorpusSource(corpus, tcfg.style_free_fraction, tcfg.augment_fraction, tcfg.augmentation)
            if corpus is not None
            else Shapes64Source()
        )
    )
    deadline = time.time() + tcfg.minutes * 60
    bar = tqdm(total=tcfg.max_steps, initial=step, disable=not master, dynamic_ncols=True, mininterval=5)
    log = open(os.path.join(tcfg.out_dir, "log.jsonl"), "a") if master else None
    t_last, ema_loss = time.time(), None
    batches = torch.utils.data.DataLoader(
        StepBatches(source, tok, mcfg, dcfg, tcfg, step, rank, world),
        batch_size=None,
        collate_fn=as_is,
        num_workers=tcfg.loader_workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if tcfg.loader_workers else None,
    )
    for batch_step, (b, tgt, x0_target, diff_weight), gen_state in batches:
        if time.time() >= deadline:
            break
        assert batch_step == step, f"the loader handed step {batch_step}'s batch to step {step}"
        gen = torch.Generator()
        gen.set_state(gen_state)
        b, tgt, x0_target, diff_weight = b.to(device), tgt.to(device), x0_target.to(device), diff_weight.to(device)
        if tcfg.rollout_fraction:
            b = roll_in(model, b, x0_target, diff_weight, dcfg, tcfg, gen, tok)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, tcfg) * min(1.0, (step - opt_start + 1) / tcfg.warmup)
        opt.zero_grad(set_to_none=True)
        loss = text_loss = diff_loss = 0.0
        for part in length_buckets(b, tgt, x0_target, diff_weight, tcfg.length_buckets):
            *inputs, share = part
            parts = (
                training_loss(net, model, *inputs, tcfg) if reader is None else reader_loss(net, reader, *inputs, tcfg)
            )
            (share * parts[0]).backward()
            loss, text_loss, diff_loss = (
                acc + share * p.detach() for acc, p in zip((loss, text_loss, diff_loss), parts)
            )
        gnorm = torch.nn.utils.clip_grad_norm_(trainable, tcfg.grad_clip)
        opt.step()
        with torch.no_grad():
            d = min(tcfg.ema_decay, (1 + step) / (10 + step))
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.lerp_(pm, 1 - d)
        step += 1
        ema_loss = loss.item() if ema_loss is None else 0.95 * ema_loss + 0.05 * loss.item()
        if master:
            bar.update(1)
            bar.set_postfix(loss=f"{ema_loss:.3f}", text=f"{text_loss.item():.3f}", diff=f"{diff_loss.item():.4f}")
            if step % tcfg.log_every == 0:
                now = time.time()
                rec = {
                    "step": step,
                    "loss": loss.item(),
                    "text_loss": text_loss.item(),
                    "diff_loss": diff_loss.item(),
                    "lr": lr_at(step, tcfg),
                    "grad_norm": float(gnorm),
                    "s_per_step": (now - t_last) / tcfg.log_every,
                    "time": now,
                }
                t_last = now
                history.append(rec)
                log.write(json.dumps(rec) + "\n")
                log.flush()
            if step % tcfg.ckpt_every == 0:
                checkpoint()
            if step % tcfg.eval_every == 0:
                quick_eval(as_served(ema, reader), tok, dcfg, tcfg, step, history, log, corpus)
        if ddp and step % tcfg.ckpt_every == 0:
            dist.barrier()
    if master:
        quick_eval(as_served(ema, reader), tok, dcfg, tcfg, step, history, log, corpus)
        checkpoint()  # after the evaluation, so that the checkpoint's history holds it
        print(f"stopped at step {step}; checkpoint {ckpt_path}", flush=True)
    if ddp:
        # The others wait for the master's last evaluation and checkpoint: a rank that tore its
        # process group down while a peer still held it was aborted by gloo ("terminate called
        # without an active exception"), failing the run after its last step.
        dist.barrier()
        dist.destroy_process_group()


def quick_eval(
    ema: UnifiedModel,
    tok: Tokenizer,
    dcfg: DiffusionConfig,
    tcfg: TrainConfig,
    step: int,
    history: list,
    log,
    corpus=None,
) -> None:
    """A small slice of the evaluation split with the EMA weights, plus the pictures. A corpus
    run scores its validation rows (settings are chosen there; evaluation only reports)."""
    from model.evaluation.evaluate import evaluate, summary_line
    from model.evaluation.plots import loss_curve, sample_grid
    from model.sampling.inference import Runtime

    t0 = time.time()
    rt = Runtime(ema, tok.pad, dcfg)
    if corpus is not None:
        from model.evaluation.eval_corpus import quick_corpus_eval

        results, line = quick_corpus_eval(
            rt, tok, corpus, tcfg.eval_n, os.path.join(tcfg.out_dir, "samples.png"), f"step {step}"
        )
        rec = {"step": step, "eval": results, "eval_seconds": time.time() - t0}
        history.append(rec)
        log.write(json.dumps(rec) + "\n")
        log.flush()
        tqdm.write(f"step {step}: {line} ({time.time() - t0:.0f}s)")
        loss_curve(history, os.path.join(tcfg.out_dir, "loss.png"))
        ema.train()
        return
    convs = eval_split(tcfg.eval_n)
    results, examples = evaluate(rt, tok, convs, dcfg.default_steps, dcfg.default_guidance)
    rec = {"step": step, "eval": results, "eval_seconds": time.time() - t0}
    history.append(rec)
    log.write(json.dumps(rec) + "\n")
    log.flush()
    tqdm.write(f"step {step}: {summary_line(results)} ({time.time() - t0:.0f}s)")
    sample_grid(examples, os.path.join(tcfg.out_dir, "samples.png"), title=f"step {step}")
    loss_curve(history, os.path.join(tcfg.out_dir, "loss.png"))
    ema.train()


if __name__ == "__main__":
    main()
