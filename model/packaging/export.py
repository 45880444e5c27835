"""Export a model package: the ONNX serving graph, tokenizer.json and manifest.json.

    python -m model.packaging.export --ckpt=model/runs/main/ckpt.pt --out=packages/shapes64
    python -m model.packaging.export --tiny --out=packages/tiny      # the test fixture + golden.json
    python -m model.packaging.export --ckpt=model/runs/emoji/ckpt.pt --out=packages/emoji64 --name=emoji64 \
        --card=.cache/emoji/corpus/card.json                # a corpus model: its card (description, licences)

One graph does prefill, one-token decode and a denoising step (docs/model-package.md).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from dataclasses import dataclass

import numpy as np
import torch

from model.cli import interval, parse
from model.data.emoji_dialogues import SOURCE_ONLY_STYLES
from model.data.examples import STYLE_TEMPLATE
from model.data.shapes64 import (
    COLOURS,
    DESCRIBE_PROMPT,
    DRAW_PREFIX,
    EVAL_SEEDS,
    KINDS,
    SIZES,
    TRAIN_SEEDS,
    scene_from_seed,
)
from model.network.chat import describe_context, draw_context, unconditional_context
from model.network.sequence import Image, attention_mask, build_row, collate, image_to_patches
from model.network.tokenizer import CHUNK, Tokenizer, train_default
from model.network.transformer import ModelConfig, UnifiedModel
from model.packaging.manifest import FORMAT, FORMAT_VERSION, image_ends_answer, write_manifest
from model.packaging.sampling import parse_guidance_by_steps, parse_steps, sampling_fields
from model.sampling.diffusion import DiffusionConfig
from model.sampling.inference import Runtime, seeded_noise

INPUTS = ["tokens", "patches", "is_image", "noise_level", "positions", "attention_mask", "past_keys", "past_values"]
OUTPUTS = ["logits", "denoised", "present_keys", "present_values"]
OPSET = 17


def example_inputs(model: UnifiedModel, tok: Tokenizer, past: int = 3) -> tuple:
    """Inputs for tracing: a past of `past` positions and a new part holding text and an image,
    so that every branch of the graph is traced with non-trivial sizes."""
    cfg = model.cfg
    # Any values of the model's image shape trace the same graph (a corpus model's size may differ from Shapes64's).
    img = np.random.default_rng(3).uniform(-1, 1, (cfg.num_patches, cfg.patch_dim)).astype(np.float32)
    row, _ = build_row([tok.boi, Image(img, 0.5), tok.eoi, 5], past, cfg.grid, tok.pad, cfg.patch_dim)
    b = collate([row, row], tok.pad, cfg.patch_dim)
    past_valid = torch.ones(2, past, dtype=torch.bool)
    mask = attention_mask(b.valid, b.image_id, past_valid)
    pk = torch.randn(cfg.n_layers, 2, past, cfg.qk_dim)
    pv = torch.randn(cfg.n_layers, 2, past, cfg.expansion)
    return (b.tokens, b.patches, b.is_image, b.noise_level, b.positions, mask, pk, pv)


def export_onnx(model: UnifiedModel, tok: Tokenizer, path: str) -> None:
    model = model.eval().float()
    dyn = {
        "tokens": {0: "batch", 1: "new"},
        "patches": {0: "batch", 1: "new"},
        "is_image": {0: "batch", 1: "new"},
        "noise_level": {0: "batch", 1: "new"},
        "positions": {0: "batch", 1: "new"},
        "attention_mask": {0: "batch", 1: "new", 2: "total"},
        "past_keys": {1: "batch", 2: "past"},
        "past_values": {1: "batch", 2: "past"},
        "logits": {0: "batch", 1: "new"},
        "denoised": {0: "batch", 1: "new"},
        "present_keys": {1: "batch", 2: "total"},
        "present_values": {1: "batch", 2: "total"},
    }
    with torch.no_grad():
        torch.onnx.export(
            model,
            example_inputs(model, tok),
            path,
            input_names=INPUTS,
            output_names=OUTPUTS,
            dynamic_axes=dyn,
            opset_version=OPSET,
            dynamo=False,
        )


def io_spec(cfg: ModelConfig) -> dict:
    L, K, E = cfg.n_layers, cfg.qk_dim, cfg.expansion

    def t(name, dtype, shape):
        return {"name": name, "dtype": dtype, "shape": shape}

    return {
        "inputs": [
            t("tokens", "int64", ["batch", "new"]),
            t("patches", "float32", ["batch", "new", cfg.patch_dim]),
            t("is_image", "float32", ["batch", "new"]),
            t("noise_level", "float32", ["batch", "new"]),
            t("positions", "int64", ["batch", "new", 3]),
            t("attention_mask", "float32", ["batch", "new", "total"]),
            t("past_keys", "float32", [L, "batch", "past", K]),
            t("past_values", "float32", [L, "batch", "past", E]),
        ],
        "outputs": [
            t("logits", "float32", ["batch", "new", cfg.vocab_size]),
            t("denoised", "float32", ["batch", "new", cfg.patch_dim]),
            t("present_keys", "float32", [L, "batch", "total", K]),
            t("present_values", "float32", [L, "batch", "total", E]),
        ],
    }


def git_commit() -> str:
    try:
        return subprocess.check_output(["git", "rev-parse", "HEAD"], stderr=subprocess.DEVNULL, text=True).strip()
    except Exception:
        return "unknown"


SHAPES64_CARD = {
    "name": "Shapes64",
    "spec": "docs/data/shapes64.md",
    "train_seeds": list(TRAIN_SEEDS),
    "eval_seeds": list(EVAL_SEEDS),
    "sizes": SIZES,
    "colours": COLOURS,
    "kinds": KINDS,
}


# What a Shapes64 package's manifest says of itself (GET /v1/models serves it).
SHAPES64_ABOUT = {
    "description": (
        "Draws and describes Shapes64 scenes: one to three coloured circles, squares, triangles and digits on a "
        '64 x 64 canvas, placed by words such as "at the top left". Prompt "draw a large red circle at the top '
        'left", send an image with "describe the image", or send an image with one edit such as "make the circle at '
        'the top left blue" (docs/data/shapes64.md has the grammar); a conversation may go on over several turns.'
    ),
    "licenses": [
        {
            "name": "Shapes64 data set and model weights",
            "spdx": "LicenseRef-unified-image-text",
            "source": "this repository (model/data/shapes64.py draws the data set, model/train.py trained the weights)",
            "attribution": "Synthetic data generated by this repository's own code; no third-party images or text. "
            "Under the repository's own licence.",
        }
    ],
}


def corpus_card(manifest_path: str) -> dict:
    """What a corpus model's manifest says of its data: the corpus file, the styles its draw
    prompts name and how many captions it trained on (read from the manifest's text rows;
    the images are not needed)."""
    from model.data.corpus import BadRow, parse_row

    styles, captions = set(), set()
    with open(manifest_path, encoding="utf-8") as f:
        for line in f:
            try:
                row = parse_row(line)
            except BadRow:
                continue
            if row["split"] == "train":
                captions.add(row["caption"])
                if row["style"]:
                    styles.add(row["style"])
    return {"corpus": os.path.basename(manifest_path), "styles": sorted(styles), "concepts": len(captions)}


def drawn_styles(styles: list[str], conversations: str) -> list[str]:
    """The styles a corpus model draws in: a conversation model reads OpenMoji's outline as a
    restyle source (model/data/emoji_dialogues.py) but never draws in it."""
    return [s for s in styles if s not in SOURCE_ONLY_STYLES] if conversations == "corpus" else styles


# What a model trained on conversations (train.py --conversations) declares it does.
CONVERSATION_TASKS = {
    "shapes64": ["draw", "describe", "edit", "multi_turn", "refuse"],
    "corpus": ["draw", "describe", "restyle", "every_style", "multi_turn", "refuse"],
}
# every task, in the order shared/runtime/tasks.ts lists them
ALL_TASKS = ["draw", "describe", "edit", "restyle", "every_style", "multi_turn", "refuse"]
MULTI_TURN_TEMPLATE = "<bos> (<user> {user} <assistant> {assistant} <eos>)* <user> {user} <assistant>"


def build_manifest(
    name: str,
    model: UnifiedModel,
    tok: Tokenizer,
    dcfg: DiffusionConfig,
    extra: dict,
    data_card: dict | None = None,
    styles: list[str] | None = None,
    tasks: list[str] | None = None,
    sampling: dict | None = None,
    image_ends_answer: bool = False,
) -> dict:
    """`styles`: a corpus model's training styles; its draw prompts may name one of them.
    `tasks`: what a conversation-trained model does (none: draw and describe, one turn).
    `sampling`: how a few-step student samples (model/packaging/sampling.py; none: as before).
    `image_ends_answer`: its answers were checked to end at their image (model/evaluation/ends_at_image.py)."""
    cfg = model.cfg
    conversation = {
        "template": "<bos> <user> {user} <assistant> {assistant} <eos>",
        "image": "<boi> {patches} <eoi>",
        "draw_prefix": DRAW_PREFIX,
        "describe_prompt": DESCRIBE_PROMPT,
        "unconditional": "<bos> <user> <assistant> <boi>",
    }
    if styles:
        conversation["draw_template"] = DRAW_PREFIX + STYLE_TEMPLATE
        conversation["styles"] = styles
    if tasks:
        conversation["tasks"] = tasks
        conversation["multi_turn_template"] = MULTI_TURN_TEMPLATE
    if image_ends_answer:
        conversation["image_ends_answer"] = True
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "model": {"architecture": "unified-gau-transformer", "parameters": model.num_params(), "config": cfg.to_dict()},
        "image": {
            "width": cfg.image_size,
            "height": cfg.image_size,
            "channels": cfg.channels,
            "patch_size": cfg.patch_size,
            "grid_h": cfg.grid,
            "grid_w": cfg.grid,
            "num_patches": cfg.num_patches,
            "patch_dim": cfg.patch_dim,
            "pixel_scale": "x = v / 127.5 - 1",
            "patch_order": "row-major",
            "value_order": "row, column, channel",
        },
        "tokenizer": {
            "file": "tokenizer.json",
            "type": "byte-bpe",
            "vocab_size": tok.vocab_size,
            "chunk_pattern": CHUNK.pattern,
            "special_tokens": tok.special,
        },
        "conversation": conversation,
        "rope": {
            "theta": cfg.rope_theta,
            "dims": cfg.qk_dim,
            "sections": 3,
            "assignment": "rotary pair i rotates by positions[..., i % 3]",
            "text": "(n, n, n)",
            "patch": "(n, n + row, n + col); the image advances n by max(grid_h, grid_w)",
            # an image after an earlier one starts at max(n, that image's start + image_gap)
            "image_gap": cfg.image_gap,
        },
        "graph": {
            "file": "model.onnx",
            "opset": OPSET,
            "num_layers": cfg.n_layers,
            "key_dim": cfg.qk_dim,
            "value_dim": cfg.expansion,
            "mask_value": -1e9,
            **io_spec(cfg),
        },
        "diffusion": {
            "process": "flow_matching",
            "interpolation": "x_t = (1 - t) * x0 + t * noise",
            "prediction": "x0",
            "sampler": "euler",
            "default_steps": dcfg.default_steps,
            "default_guidance": dcfg.default_guidance,
            "time_shift": dcfg.time_shift,
            "guidance_interval": list(dcfg.guidance_interval),
            **(sampling or {}),
        },
        "data_card": data_card or SHAPES64_CARD,
        "source_commit": git_commit(),
        **extra,
    }


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def segments_json(items: list) -> list:
    """Items (ids and Images) -> the runtime's Segment shape, text ids grouped."""
    out: list = []
    for it in items:
        if isinstance(it, Image):
            out.append({"type": "image", "patches": b64(it.patches)})
        elif out and out[-1]["type"] == "text":
            out[-1]["ids"].append(int(it))
        else:
            out.append({"type": "text", "ids": [int(it)]})
    return out


def golden(model: UnifiedModel, tok: Tokenizer, dcfg: DiffusionConfig) -> dict:
    """PyTorch outputs for fixed inputs, for the TypeScript runtime's tests."""
    rt = Runtime(model, tok.pad, dcfg)
    cfg = model.cfg
    texts = ["draw " + scene_from_seed(s).caption() for s in range(4)] + [
        DESCRIBE_PROMPT,
        "",
        " ",
        "a  b\tc\n\nd ",
        "héllo wörld 😀 — ok",
        "<|eos|> is text",
        "large large  red",
    ]
    vectors = [{"text": t, "ids": tok.encode(t)} for t in texts]
    image = image_to_patches(scene_from_seed(7).render(), cfg.patch_size)
    ctx = describe_context(tok, image)
    _, last = rt.prefill([ctx])
    caption = scene_from_seed(11).caption()
    greedy_ctx = describe_context(tok, image_to_patches(scene_from_seed(11).render(), cfg.patch_size))
    out = rt.decode_greedy([greedy_ctx], 40, {tok.eos, tok.boi})[0]
    stop = "eos" if out[-1] == tok.eos else "boi" if out[-1] == tok.boi else "length"
    ids = out[:-1] if stop != "length" else out
    steps, guidance, noise_seed = 4, 2.5, 1234
    cond, _ = rt.prefill([draw_context(tok, caption)])
    uncond, _ = rt.prefill([unconditional_context(tok)])
    noise = seeded_noise(noise_seed, cfg.num_patches, cfg.patch_dim)
    final = rt.sample_images(cond, uncond, noise[None], steps, guidance)[0]
    # An edit: the answer's image follows the user's, so it starts at the image gap (rope.image_gap).
    instruction = tok.encode("make the circle at the top left blue")
    edit_ctx = [tok.bos, tok.user, tok.boi, Image(image), tok.eoi, *instruction, tok.assistant, tok.boi]
    edit_cond, _ = rt.prefill([edit_ctx])
    edited = rt.sample_images(edit_cond, uncond, noise[None], steps, guidance)[0]
    return {
        "tolerance": {"logits": 1e-4, "patches": 1e-3},
        "tokenizer": vectors,
        "prefill": {"segments": segments_json(ctx), "last_logits": b64(last[0].numpy())},
        "greedy": {"segments": segments_json(greedy_ctx), "max_tokens": 40, "ids": ids, "stop": stop},
        "denoise": {
            "caption": caption,
            "cond_segments": segments_json(draw_context(tok, caption)),
            "uncond_segments": segments_json(unconditional_context(tok)),
            "steps": steps,
            "guidance": guidance,
            "noise": b64(noise.numpy()),
            "final": b64(final.numpy()),
        },
        "edit": {"cond_segments": segments_json(edit_ctx), "final": b64(edited.numpy())},
    }


def export_package(
    out_dir: str,
    name: str,
    model: UnifiedModel,
    tok: Tokenizer,
    dcfg: DiffusionConfig,
    extra: dict | None = None,
    with_golden: bool = False,
    extra_files: dict | None = None,
    data_card: dict | None = None,
    styles: list[str] | None = None,
    tasks: list[str] | None = None,
    sampling: dict | None = None,
    image_ends_answer: bool = False,
) -> dict:
    if model.cfg.research_only:
        raise ValueError(
            f"{name}: a research variant ({ {k: getattr(model.cfg, k) for k in ('image_input', 'image_attention')} }) "
            "is not exported: the package contract reads raw patches with bidirectional image attention"
        )
    os.makedirs(out_dir, exist_ok=True)
    files = ["model.onnx", "tokenizer.json"]
    export_onnx(model, tok, os.path.join(out_dir, "model.onnx"))
    tok.save(os.path.join(out_dir, "tokenizer.json"))
    if with_golden:
        with open(os.path.join(out_dir, "golden.json"), "w") as f:
            json.dump(golden(model, tok, dcfg), f)
        files.append("golden.json")
    for fname, content in (extra_files or {}).items():
        with open(os.path.join(out_dir, fname), "w") as f:
            json.dump(content, f, indent=2)
        files.append(fname)
    return write_manifest(
        out_dir,
        build_manifest(name, model, tok, dcfg, extra or {}, data_card, styles, tasks, sampling, image_ends_answer),
        files,
    )


def tiny(steps: int = 150, **overrides) -> tuple[UnifiedModel, Tokenizer, DiffusionConfig]:
    """A small model with the real tokenizer, briefly trained. Its sampler settings
    differ from the defaults on purpose, so a runtime that hard-codes them fails the golden
    test. It has a pixel head, as the shipped model does, so the TypeScript runtime's golden
    tests run one. `overrides`: ModelConfig fields (pixel_width=0: none)."""
    tok = train_default()
    torch.manual_seed(0)
    cfg = ModelConfig(
        **{
            "vocab_size": tok.vocab_size,
            "d_model": 32,
            "n_layers": 2,
            "expansion": 64,
            "qk_dim": 24,
            "time_freq_dim": 16,
            "pixel_width": 8,
            "pixel_features": 4,
            "image_gap": 40,  # past the golden edit's instruction, so the gap decides where its image starts
            **overrides,
        }
    )
    model = UnifiedModel(cfg)
    dcfg = DiffusionConfig(time_shift=2.0, default_guidance=2.5, guidance_interval=(0.3, 0.9), default_steps=4)
    brief_training(model, tok, dcfg, steps)
    return model.eval(), tok, dcfg


def brief_training(model: UnifiedModel, tok: Tokenizer, dcfg: DiffusionConfig, steps: int) -> None:
    """A few seconds of training teach the tiny model the conversation template: it answers a
    draw prompt with <boi> and ends after <eoi>, and a describe prompt with caption-like
    text. So the fixture drives the real image and text paths end to end, not just
    random tokens."""
    from model.train import TrainConfig, make_batch, training_loss

    tcfg = TrainConfig(batch_size=16, bf16=False, draw_fraction=0.5)
    gen = torch.Generator().manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for step in range(steps):
        b, tgt, x0, dm = make_batch(tok, model.cfg, dcfg, tcfg, list(range(step * 16, step * 16 + 16)), gen)
        loss, _, _ = training_loss(model, model, b, tgt, x0, dm, tcfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()


@dataclass
class ExportArgs:
    out: str
    """the package folder to write"""
    ckpt: str | None = None  # a training or slim checkpoint
    tiny: bool = False  # the test fixture packages/tiny (trained for seconds, with golden outputs)
    name: str | None = None  # the package's name (default: shapes64, or the corpus file's stem)
    card: str | None = None  # a JSON file whose description, licenses and data_card go into the manifest
    raw: bool = False  # export the raw weights instead of the EMA
    eval_json: str | None = None  # evaluation results to ship in the package
    default_guidance: float | None = None  # sampler default chosen by evaluation
    time_shift: float | None = None  # sampler time shift chosen by evaluation
    guidance_interval: str | None = None  # lo,hi chosen by evaluation
    default_steps: int | None = None  # sampler default steps (a few-step student: 1 or 2)
    steps: str | None = None  # the only step counts served, e.g. 1,2 (default: any)
    max_steps: int | None = None  # the most steps served (instead of --steps)
    fixed_guidance: bool = (
        False  # the default guidance is distilled into the network: no unconditional rows, no other value
    )
    # A request's default guidance for some step counts, "1=2,4=3", chosen by evaluation (the
    # default guidance, chosen for the default steps, overshoots over a few large ones)
    guidance_by_steps: str | None = None
    # A model.evaluation.ends_at_image report of this checkpoint: where it found that every
    # answer ends at its image, the manifest declares conversation.image_ends_answer.
    ends_at_image: str | None = None


def main(argv: list[str] | None = None) -> None:
    args = parse(ExportArgs, argv, description=__doc__)
    if args.tiny:
        model, tok, dcfg = tiny()
        m = export_package(
            args.out,
            "tiny",
            model,
            tok,
            dcfg,
            {"purpose": "test fixture: tiny, trained for seconds (knows the template, not the pictures)"},
            with_golden=True,
            # every task, so that the services' conversation paths run against it (it knows none of them)
            tasks=ALL_TASKS,
        )
    else:
        ck = torch.load(args.ckpt, weights_only=False, map_location="cpu")
        tok = Tokenizer.from_json(ck["tokenizer"])
        model = UnifiedModel(ModelConfig(**ck["model_config"]))
        model.load_state_dict(ck["model" if args.raw else "ema"])
        if "reader" in ck:  # train.py --distill_reader: its own weights only denoise
            print("a denoise-only student: give its package its teacher's serving graphs (model.packaging.join_reader)")
        dcfg = DiffusionConfig(**ck["diffusion_config"])
        if args.default_guidance is not None:
            dcfg.default_guidance = args.default_guidance
        if args.time_shift is not None:
            dcfg.time_shift = args.time_shift
        if args.guidance_interval:
            dcfg.guidance_interval = interval(args.guidance_interval)
        if args.default_steps is not None:
            dcfg.default_steps = args.default_steps
        try:
            by_steps = parse_guidance_by_steps(args.guidance_by_steps or "")
            sampling = sampling_fields(
                dcfg.default_steps, parse_steps(args.steps), args.max_steps, args.fixed_guidance, by_steps
            )
        except ValueError as e:
            raise SystemExit(f"error: {e}") from None
        extra_files = {
            "train_config.json": {
                "train_config": ck["train_config"],
                "steps": ck["step"],
                "trained_at_commit": git_commit(),
                "weights": "raw" if args.raw else "ema",
            }
        }
        if args.eval_json:
            with open(args.eval_json) as f:
                extra_files["eval.json"] = json.load(f)
        corpus = ck["train_config"].get("corpus")
        card = json.load(open(args.card, encoding="utf-8")) if args.card else {}
        about = card if corpus else {**SHAPES64_ABOUT, **card}
        extra = {"training": {"steps": ck["step"]}, **{k: about[k] for k in ("description", "licenses") if k in about}}
        data_card = styles = None
        if corpus:
            data_card = {**corpus_card(corpus), **card.get("data_card", {})}
            data_card["styles"] = drawn_styles(data_card["styles"], ck["train_config"].get("conversations", ""))
            styles = data_card["styles"]
        name = args.name or (os.path.splitext(os.path.basename(corpus))[0] if corpus else "shapes64")
        tasks = CONVERSATION_TASKS.get(ck["train_config"].get("conversations", ""))
        m = export_package(
            args.out,
            name,
            model,
            tok,
            dcfg,
            extra,
            extra_files=extra_files,
            data_card=data_card,
            styles=styles,
            tasks=tasks,
            sampling=sampling,
            image_ends_answer=image_ends_answer(args.ends_at_image, args.ckpt),
        )
    print(json.dumps({k: v for k, v in m["files"].items()}, indent=1))


if __name__ == "__main__":
    main()
