"""Image tokenizers for the thesis study (docs/thesis.md): a k-means codebook over training patches.

A tokenizer maps each 8 x 8 x 3 patch (in the model's -1..1 scale, the layout of
sequence.image_to_patches) to the index of its nearest codebook row; decoding is the row
itself. It is the simplest VQ tokenizer (a VQ-VAE's quantizer without the learned encoder
and decoder around it), so its reconstruction error is what a lookup of this many codes
must lose on these patches, measured here as PSNR on held-out images.

    python -m model.research.vq --data=shapes64 --k=256,1024,4096 --out=model/runs/thesis/tokenizers
    python -m model.research.vq --data=.cache/emoji/corpus/emoji-core.jsonl --k=1024 --out=...

Why our own minibatch k-means (Sculley 2010) and not scikit-learn's MiniBatchKMeans: one
function does not justify scikit-learn and SciPy (about 100 MB) in the model's environment
and in scripts/setup.sh; 60 lines here also choose the starting centres among distinct
patches (most Shapes64 patches are the same white patch, which would otherwise take many of
the starting centres) and record the error as it falls, which the tests check.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from model.cli import parse
from model.evaluation.score import psnr
from model.network.sequence import image_to_patches, patches_to_image
from model.research.network import nearest_code


def encode(patches: np.ndarray, codebook: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """float [N, D] -> int64 [N]: each patch's nearest code, exactly as the model reads it."""
    cb = torch.from_numpy(np.ascontiguousarray(codebook, np.float32))
    out = [
        nearest_code(torch.from_numpy(np.ascontiguousarray(patches[s : s + chunk], np.float32)), cb).numpy()
        for s in range(0, len(patches), chunk)
    ]
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def decode(codes: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    return codebook[codes]


def quantization_mse(patches: np.ndarray, codebook: np.ndarray) -> float:
    return float(((decode(encode(patches, codebook), codebook) - patches) ** 2).mean())


def kmeans(
    data: np.ndarray,
    k: int,
    iters: int = 300,
    batch: int = 4096,
    seed: int = 0,
    eval_every: int = 25,
    reseed_every: int = 20,
    log=None,
) -> tuple[np.ndarray, list[dict]]:
    """Minibatch k-means over rows of `data` [N, D]. Returns the codebook [k, D] and the history
    of the quantization MSE on a fixed sample of the data ({iteration, mse}; the first entry is
    the starting centres'). Centres start at distinct rows; a centre that won no row for
    `reseed_every` iterations restarts at the minibatch row it would serve worst."""
    rng = np.random.default_rng(seed)
    data = np.ascontiguousarray(data, np.float32)
    n, dim = data.shape
    distinct = np.unique(data, axis=0)
    if len(distinct) <= k:  # every distinct row gets its own code: lossless; spare codes repeat the first
        cb = np.concatenate([distinct, np.repeat(distinct[:1], k - len(distinct), 0)])
        return cb, [{"iteration": 0, "mse": quantization_mse(data, cb)}]
    centres = torch.from_numpy(distinct[rng.choice(len(distinct), k, replace=False)].copy())
    counts = torch.zeros(k)
    won = torch.zeros(k)
    probe = data[rng.choice(n, min(n, 16384), replace=False)]
    history = [{"iteration": 0, "mse": quantization_mse(probe, centres.numpy())}]
    for it in range(1, iters + 1):
        x = torch.from_numpy(data[rng.integers(0, n, batch)])
        a = nearest_code(x, centres)
        hits = torch.bincount(a, minlength=k).float()
        sums = torch.zeros(k, dim).index_add_(0, a, x)
        counts += hits
        won += hits
        seen = hits > 0
        # Each centre is the running mean of every row it has won (per-centre rate hits / counts).
        rate = (hits[seen] / counts[seen])[:, None]
        centres[seen] += rate * (sums[seen] / hits[seen, None] - centres[seen])
        if it % reseed_every == 0:
            dead = (won == 0).nonzero().squeeze(1)
            if len(dead):
                err = ((x - centres[a]) ** 2).sum(1)
                worst = distinct_rows(x, err.argsort(descending=True), len(dead))
                centres[dead[: len(worst)]] = x[worst]
                counts[dead[: len(worst)]] = 1.0
            won.zero_()
        if it % eval_every == 0 or it == iters:
            history.append({"iteration": it, "mse": quantization_mse(probe, centres.numpy())})
            if log:
                log(f"  k-means k={k} iteration {it}/{iters}: mse {history[-1]['mse']:.5f}")
    return centres.numpy(), history


def distinct_rows(x: torch.Tensor, order: torch.Tensor, n: int) -> torch.Tensor:
    """The first n indices in `order` whose rows differ from each other (two restarted centres
    on one point would be one code twice)."""
    seen, out = set(), []
    for i in order.tolist():
        key = x[i].numpy().tobytes()
        if key not in seen:
            seen.add(key)
            out.append(i)
            if len(out) == n:
                break
    return torch.tensor(out, dtype=torch.long)


def reconstruct(images: np.ndarray, codebook: np.ndarray, patch: int) -> np.ndarray:
    """uint8 [N, H, W, 3] -> the images as the tokenizer's codes decode them (uint8)."""
    size = images.shape[1]
    out = np.empty_like(images)
    for i, im in enumerate(images):
        p = image_to_patches(im, patch)
        out[i] = patches_to_image(decode(encode(p, codebook), codebook), patch, size)
    return out


def reconstruction_report(
    images: np.ndarray, codebook: np.ndarray, patch: int, pixel_mask: np.ndarray | None = None
) -> dict:
    """PSNR of the decoded images against the originals, in 0..255 after rounding to uint8 as
    an image is stored: pooled over the set (`psnr_db`) and the median of per-image PSNRs.
    `pixel_mask` [N, H, W] bool: also the PSNR over those pixels alone (e.g. a digit's)."""
    rec = reconstruct(images, codebook, patch)
    err = (rec.astype(np.float64) - images.astype(np.float64)) ** 2
    per_image = err.reshape(len(images), -1).mean(1)
    codes = encode(np.concatenate([image_to_patches(im, patch) for im in images]), codebook)
    report = {
        "images": int(len(images)),
        "mse": float(err.mean()),
        "psnr_db": psnr(float(err.mean())),
        "psnr_median_db": float(np.median([min(psnr(m), 99.0) for m in per_image])),
        "codes_used": int(len(np.unique(codes))),
        "codebook_size": int(len(codebook)),
    }
    if pixel_mask is not None and pixel_mask.any():
        report["masked_pixels"] = int(pixel_mask.sum())
        report["psnr_masked_db"] = psnr(float(err[pixel_mask].mean()))
    return report


def mean_colour_report(images: np.ndarray, patch: int, pixel_mask: np.ndarray | None = None) -> dict:
    """A reference point for the PSNRs: each patch replaced by its mean colour (an 8x smaller
    image, three continuous values a patch), scored as reconstruction_report scores a codebook."""
    n, h, w, c = images.shape
    means = images.reshape(n, h // patch, patch, w // patch, patch, c).astype(np.float64).mean((2, 4), keepdims=True)
    rec = np.round(np.broadcast_to(means, (n, h // patch, patch, w // patch, patch, c))).reshape(images.shape)
    err = (rec - images.astype(np.float64)) ** 2
    report = {"images": int(n), "mse": float(err.mean()), "psnr_db": psnr(float(err.mean()))}
    if pixel_mask is not None and pixel_mask.any():
        report["psnr_masked_db"] = psnr(float(err[pixel_mask].mean()))
    return report


def image_patches(images: np.ndarray, patch: int) -> np.ndarray:
    return np.concatenate([image_to_patches(im, patch) for im in images])


def save_codebook(path: str, codebook: np.ndarray, meta: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.npz"
    np.savez(tmp, codebook=codebook.astype(np.float32), meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)


def load_codebook(path: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        return z["codebook"].astype(np.float32)


def load_meta(path: str) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return json.loads(str(z["meta"]))


# --- the study's two data sets -------------------------------------------------------------


def shapes64_images(seeds: range) -> np.ndarray:
    from model.data.shapes64 import scene_from_seed

    return np.stack([scene_from_seed(s).render() for s in seeds])


def shapes64_digit_pixels(seeds: range) -> np.ndarray:
    """bool [N, 64, 64]: pixels a digit covers (any coverage), per scene."""
    from model.data.shapes64 import GEOMETRIC, object_alpha, scene_from_seed

    out = []
    for s in seeds:
        m = np.zeros((64, 64), bool)
        for o in scene_from_seed(s).objects:
            if o.kind not in GEOMETRIC:
                m |= object_alpha(o) > 0
        out.append(m)
    return np.stack(out)


def training_images(data: str, n: int, image_size: int = 64) -> np.ndarray:
    """What a tokenizer is fitted on: Shapes64 training scenes, or a corpus's training rows."""
    if data == "shapes64":
        from model.data.shapes64 import TRAIN_SEEDS

        return shapes64_images(range(TRAIN_SEEDS[0], TRAIN_SEEDS[0] + n))
    from model.data.corpus import load_corpus

    corpus = load_corpus(data, image_size, log=lambda *_: None)
    rows = corpus.indices("train")
    if n and n < len(rows):
        rows = sorted(np.random.default_rng(0).choice(rows, n, replace=False).tolist())
    return corpus.images[rows]


def fit(
    data: str,
    k: int,
    out_path: str,
    train_images: int,
    iters: int,
    batch: int,
    patch: int = 8,
    seed: int = 0,
    log=print,
    images: np.ndarray | None = None,
) -> dict:
    """Fits one tokenizer and saves it; returns its meta (data, k, iterations, error history).
    `images`: training_images(data, train_images) when the caller already has them."""
    t0 = time.time()
    images = training_images(data, train_images) if images is None else images
    patches = image_patches(images, patch)
    codebook, history = kmeans(patches, k, iters=iters, batch=batch, seed=seed, log=log)
    meta = {
        "data": data,
        "k": k,
        "patch_size": patch,
        "train_images": int(len(images)),
        "train_patches": int(len(patches)),
        "iterations": iters,
        "batch": batch,
        "seed": seed,
        "history": history,
        "seconds": round(time.time() - t0, 1),
    }
    save_codebook(out_path, codebook, meta)
    return meta


@dataclass
class VqArgs:
    out: str
    """folder for <name>-k<K>.npz"""
    data: str = "shapes64"  # shapes64 or a corpus manifest
    k: str = "256,1024,4096"  # codebook sizes, comma-separated
    train_images: int = 20000  # Shapes64 scenes (a corpus: all training rows when 0)
    iters: int = 300
    batch: int = 4096
    eval_images: int = 1000


def main(argv: list[str] | None = None) -> None:
    args = parse(VqArgs, argv, description=__doc__)
    name = "shapes64" if args.data == "shapes64" else os.path.splitext(os.path.basename(args.data))[0]
    if args.data == "shapes64":
        from model.data.shapes64 import EVAL_SEEDS

        seeds = range(EVAL_SEEDS[0], EVAL_SEEDS[0] + args.eval_images)
        held = shapes64_images(seeds)
        mask = shapes64_digit_pixels(seeds)
    else:
        from model.data.corpus import load_corpus

        corpus = load_corpus(args.data, 64, log=lambda *_: None)
        held, mask = corpus.images[corpus.indices("eval")], None
    for k in (int(v) for v in args.k.split(",")):
        path = os.path.join(args.out, f"{name}-k{k}.npz")
        meta = fit(args.data, k, path, args.train_images, args.iters, args.batch)
        rep = reconstruction_report(held, load_codebook(path), 8, mask)
        print(json.dumps({"tokenizer": path, "fit_seconds": meta["seconds"], **rep}))


if __name__ == "__main__":
    main()
