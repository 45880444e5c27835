"""Schemathesis hooks of `npm run fuzz` (loaded by run.ts through SCHEMATHESIS_HOOKS).

The spec states every rule of a request that JSON Schema can state (edge/openapi*.ts). A few
rules it cannot, and the docs state them in words; here the fuzzer is told them, so that a
schema-valid request it sends is one the server must serve:

- an input image's bytes are an image of the declared type: every data URL the generator
  makes (matching the spec's pattern) gets a real 2 x 2 image of its type, parameters kept,
  and every file of a positive multipart case (`image`, `images`, ...: `format: binary`,
  whose encoding names the image types) a real 2 x 2 image (schemathesis would send any bytes);
- totals over a whole conversation (POST /v1/generations `messages`, POST /v1/chat/completions):
  at most 8 images, 8000 characters of text, a context of 4096 positions;
- the order of a chat's turns as history.ts reads it (system and developer messages and
  empty ones not read, consecutive messages of one role one turn, the first and the last
  turn the user's), and no markdown image links in an assistant's text.

- a form's two names for its files, one of them only: POST /v1/images/edits states it as a
  `oneOf` of `image` / `image[]`, which schemathesis 4.32's coverage phase does not apply
  where the parts are files (it sends both as a positive case); POST /v1/generations' form
  says "not both" of `images` / `images[]` in words only (a `not` rule there crashed that
  phase). A positive case with both is not sent; the server refuses it (400).

Positive cases that break those are not sent (filter_case; before_add_examples for the
examples phase, which filter_case does not reach); negative cases are all sent.
Each positive case the server refused (4xx other than auth and not found: what ST202 counts)
is written to refused.ndjson in the working directory (the report folder), so a failed run
says which operation and request it was.
"""

import base64
import json
import re

import schemathesis
from schemathesis.transport.serialization import Binary

IMAGES = {
    "image/png": "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEklEQVQImWM4oaFxQkODAUIBACEuBGGj1lj9AAAAAElFTkSuQmCC",  # noqa: E501
    "image/jpeg": "/9j/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAACAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFQEBAQAAAAAAAAAAAAAAAAAABQf/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCKAAK2/9k=",  # noqa: E501
    "image/webp": "UklGRjoAAABXRUJQVlA4IC4AAACQAQCdASoCAAIAAUAmJaACdLoAA5gA/vCbQ/4DdfFtMv/ucD/uyf/2yf+pAAAA",
    "image/gif": "R0lGODlhAgACAIAAAExpccgoKCH5BAUAAAAALAAAAAACAAIAAAICjFMAOw==",
}
# The spec's IMAGE_DATA_URL_PATTERN, without the payload: media type and parameters.
DATA_URL = re.compile(
    r"^data:(image/png|image/jpeg|image/webp|image/gif)((?:;[A-Za-z0-9=._+-]+)*);base64,[A-Za-z0-9+/=]+$"
)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(")

LIMITS = {"images": 8, "chars": 8000, "positions": 4096, "patches": 64}


def real_images(value):
    """The body with every generated image data URL holding a real image of its type."""
    if isinstance(value, str):
        match = DATA_URL.match(value)
        return f"data:{match.group(1)}{match.group(2)};base64,{IMAGES[match.group(1)]}" if match else value
    if isinstance(value, list):
        return [real_images(v) for v in value]
    if isinstance(value, dict):
        return {k: real_images(v) for k, v in value.items()}
    return value


@schemathesis.hook
def map_body(context, body):
    return real_images(body)


MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8": "image/jpeg", b"GIF8": "image/gif", b"RIFF": "image/webp"}


def real_file(value):
    """A generated file as a real image: of the type its bytes start with, else a PNG."""
    data = value.data if isinstance(value, Binary) else value
    mime = next((m for magic, m in MAGIC.items() if data.startswith(magic)), "image/png")
    return Binary(base64.b64decode(IMAGES[mime]))


def real_files(value):
    if isinstance(value, (Binary, bytes)):
        return real_file(value)
    if isinstance(value, list):
        return [real_files(v) for v in value]
    return value


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if (
        meta is not None
        and meta.generation.mode.is_positive
        and isinstance(case.body, dict)
        and case.media_type
        and case.media_type.startswith("multipart/")
    ):
        case.body = {k: real_files(v) for k, v in case.body.items()}
    return case


def summary(value):
    """A body as JSON, files and long strings cut short."""
    if isinstance(value, (Binary, bytes)):
        return f"<file {len(value.data if isinstance(value, Binary) else value)} bytes>"
    if isinstance(value, str):
        return value if len(value) <= 200 else f"{value[:200]}... ({len(value)} chars)"
    if isinstance(value, list):
        return [summary(v) for v in value]
    if isinstance(value, dict):
        return {k: summary(v) for k, v in value.items()}
    return value if value is None or isinstance(value, (int, float, bool)) else repr(value)[:500]


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    if (
        meta is None
        or not meta.generation.mode.is_positive
        or not 400 <= response.status_code < 500
        or response.status_code in (401, 403, 404, 409, 429)
    ):
        return
    record = {
        "operation": case.operation.label,
        "phase": str(meta.phase.name) if getattr(meta, "phase", None) else None,
        "status": response.status_code,
        "response": response.text[:500],
        "media_type": case.media_type,
        "body": summary(case.body),
        "query": summary(case.query),
    }
    with open("refused.ndjson", "a") as out:
        out.write(json.dumps(record, default=str) + "\n")


def within_totals(turns):
    """turns: [(role, [("text", str) | ("image", None)])]; the limits of docs/api.md, positions counted
    high (a token per byte)."""
    parts = [p for _, ps in turns for p in ps]
    images = sum(1 for kind, _ in parts if kind == "image")
    text = [t for kind, t in parts if kind == "text"]
    positions = sum(len(t.encode()) for t in text) + images * (LIMITS["patches"] + 2) + 3 * len(turns) + 2
    return (
        images <= LIMITS["images"] and sum(len(t) for t in text) <= LIMITS["chars"] and positions <= LIMITS["positions"]
    )


def generation_turns(body):
    turns = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            turns.append((message.get("role"), [("text", content)]))
        elif isinstance(content, list):
            turns.append(
                (
                    message.get("role"),
                    [
                        ("text", p.get("text", "")) if p.get("type") == "text" else ("image", None)
                        for p in content
                        if isinstance(p, dict)
                    ],
                )
            )
    return turns


def chat_turns(body):
    """The turns as edge/openai/history.ts reads them, or None where it refuses the order."""
    turns = []
    for message in body.get("messages") or []:
        role, content = message.get("role"), message.get("content")
        if role not in ("user", "assistant") or content is None:
            continue
        raw = (
            [("text", content)]
            if isinstance(content, str)
            else [("image", None) if p.get("type") == "image_url" else ("text", p.get("text", "")) for p in content]
        )
        if role == "assistant" and any(kind == "text" and MARKDOWN_IMAGE.search(t) for kind, t in raw):
            return None
        parts = [(kind, t) for kind, t in raw if kind == "image" or t]
        if not parts:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(parts)
        else:
            turns.append((role, parts))
    if not turns or turns[0][0] != "user" or turns[-1][0] != "user":
        return None
    return turns


# A form's two names for its files, exactly one of them (the spec's `oneOf`); for edits one is required.
FILE_NAMES = {
    "POST /v1/images/edits": ("image", "image[]", True),
    "POST /v1/generations": ("images", "images[]", False),
}


def schema_valid(case):
    """Whether a case that schemathesis takes as valid is one the server must serve (the module's rules)."""
    if not isinstance(case.body, dict):
        return True
    label = case.operation.label
    if case.media_type and case.media_type.startswith("multipart/") and label in FILE_NAMES:
        # Both names at once is refused (400): the edits' `oneOf`, which schemathesis 4.32's coverage
        # phase does not apply to file parts, and the generation form's rule stated in words.
        one, other, required = FILE_NAMES[label]
        sent = (one in case.body) + (other in case.body)
        return sent == 1 or (sent == 0 and not required)
    if label == "POST /v1/generations" and "messages" in case.body:
        return within_totals(generation_turns(case.body))
    if label == "POST /v1/chat/completions":
        turns = chat_turns(case.body)
        return turns is not None and within_totals(turns)
    return True


@schemathesis.hook
def filter_case(context, case):
    meta = case.meta
    return meta is None or not meta.generation.mode.is_positive or schema_valid(case)


@schemathesis.hook
def before_add_examples(context, examples):
    # The examples phase does not run filter_case; its cases are all positive (it filled the form's
    # optional fields, `images` and `images[]` together among them).
    examples[:] = [case for case in examples if schema_valid(case)]
