"""Model package I/O: write the folder (manifest, graph, tokenizer) and load it back with
validation. The manifest's contract is docs/model-package.md."""

from __future__ import annotations

import hashlib
import json
import os

from model.packaging.sampling import check_sampling

FORMAT = "unified-model-package"
FORMAT_VERSION = 1


class PackageError(ValueError):
    pass


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(out_dir: str, manifest: dict, files: list[str]) -> dict:
    """Adds the sha256 and size of each file, then writes manifest.json."""
    manifest = dict(manifest)
    manifest["files"] = {
        name: {
            "sha256": sha256_file(os.path.join(out_dir, name)),
            "bytes": os.path.getsize(os.path.join(out_dir, name)),
        }
        for name in files
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


REQUIRED = {
    "format": str,
    "format_version": int,
    "image": dict,
    "tokenizer": dict,
    "graph": dict,
    "diffusion": dict,
    "rope": dict,
    "files": dict,
}


def load_manifest(package_dir: str, verify: bool = True) -> dict:
    """Reads and validates manifest.json; with `verify`, refuses files whose sha256 differs."""
    path = os.path.join(package_dir, "manifest.json")
    if not os.path.exists(path):
        raise PackageError(f"{package_dir}: no manifest.json (is this a model package?)")
    try:
        with open(path) as f:
            manifest = json.load(f)
    except json.JSONDecodeError as e:
        raise PackageError(f"{path}: not valid JSON ({e})") from e
    for key, kind in REQUIRED.items():
        if not isinstance(manifest.get(key), kind):
            raise PackageError(f"{path}: field '{key}' is missing or not a {kind.__name__}")
    if manifest["format"] != FORMAT or manifest["format_version"] != FORMAT_VERSION:
        raise PackageError(
            f"{path}: format {manifest['format']} v{manifest['format_version']} is not {FORMAT} v{FORMAT_VERSION}"
        )
    if "steps" in manifest["diffusion"] or "guidance" in manifest["diffusion"]:
        try:
            check_sampling(manifest["diffusion"])
        except (KeyError, ValueError) as e:
            raise PackageError(f"{path}: {e}") from e
    for name in (manifest["graph"].get("file"), manifest["tokenizer"].get("file")):
        if name not in manifest["files"]:
            raise PackageError(f"{path}: '{name}' is referenced but not listed in files")
    if verify:
        for name, info in manifest["files"].items():
            fpath = os.path.join(package_dir, name)
            if not os.path.exists(fpath):
                raise PackageError(f"{package_dir}: file '{name}' listed in the manifest is missing")
            actual = sha256_file(fpath)
            if actual != info["sha256"]:
                raise PackageError(
                    f"{package_dir}: file '{name}' does not match its sha256 "
                    f"(manifest {info['sha256'][:12]}..., file {actual[:12]}...)"
                )
    return manifest


def image_ends_answer(report_path: str | None, ckpt: str) -> bool:
    """Whether an ends_at_image report (of this checkpoint) found that every answer ends at its image."""
    if not report_path:
        return False
    with open(report_path) as f:
        report = json.load(f)
    if os.path.abspath(report.get("checkpoint", "")) != os.path.abspath(ckpt):
        raise SystemExit(f"error: {report_path} checked {report.get('checkpoint')!r}, not {ckpt!r}")
    if not report.get("image_ends_answer"):
        print(f"{report_path}: {report.get('went_on')} answers went on after their image: not declared")
    return bool(report.get("image_ends_answer"))
