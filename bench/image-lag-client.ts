/**
 * The load of bench/image-lag.ts, in a process of its own so that building and sending the
 * 1.2 MB bodies does not count as the edge's event-loop time: `clients` concurrent clients,
 * each sending `rounds` POST /v1/generations with four JPEGs of `side` x 3/4 side, as data
 * URLs in a JSON body or, with `--multipart`, as files of a multipart form (no base64).
 * Prints one JSON line: {statuses, seconds, jpegBytes, requestMs}.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';

const [url, clients, rounds, side, grain] = [
  process.argv[2]!,
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
  Number(process.argv[6] ?? 0),
];

/**
 * A photo-like JPEG of simple shapes on a gradient (4000 x 3000: about 230 KB), with
 * gaussian grain of standard deviation `grain` (19: about 1.6 MB, a camera photo's size).
 */
async function photo(seed: number, width: number): Promise<Buffer> {
  const shapes = Array.from({ length: 40 }, (_, i) => {
    const x = (seed * 977 + i * 613) % 4000;
    const y = (seed * 389 + i * 271) % 3000;
    const r = 60 + ((i * 37) % 300);
    return `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${(i * 47 + seed * 13) % 360},70%,50%)"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="3000"><defs><linearGradient id="g"><stop offset="0" stop-color="#336"/><stop offset="1" stop-color="#cc9"/></linearGradient></defs><rect width="4000" height="3000" fill="url(#g)"/>${shapes}</svg>`;
  let image = sharp(Buffer.from(svg));
  if (grain > 0) {
    const noise = await sharp({
      create: { width: 4000, height: 3000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: grain } },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    image = sharp(
      await image
        .composite([{ input: noise, blend: 'soft-light' }])
        .png({ compressionLevel: 0 })
        .toBuffer(),
    );
  }
  return (width === 4000 ? image : image.resize(width, Math.round((width * 3) / 4))).jpeg({ quality: 82 }).toBuffer();
}

/** Made once per size and grain (the warm-up run makes them), so that making them is not inside the measured span. */
async function cachedPhoto(seed: number): Promise<Buffer> {
  const path = join(tmpdir(), `image-lag-${side}-${grain}-${seed}.jpg`);
  if (existsSync(path)) return readFileSync(path);
  const jpeg = await photo(seed, side);
  writeFileSync(path, jpeg);
  return jpeg;
}

const jpegs = await Promise.all([1, 2, 3, 4].map((seed) => cachedPhoto(seed)));
const multipart = process.argv.includes('--multipart');
const json = JSON.stringify({
  prompt: 'describe the image',
  images: jpegs.map((b) => `data:image/jpeg;base64,${b.toString('base64')}`),
  max_tokens: 8,
});
/** A form is consumed by each send: made anew (the files are the same Blobs, not copied). */
const files = jpegs.map((b, i) => new File([new Uint8Array(b)], `photo-${i}.jpg`, { type: 'image/jpeg' }));
function form(): FormData {
  const body = new FormData();
  body.append('prompt', 'describe the image');
  body.append('max_tokens', '8');
  for (const file of files) body.append('images', file);
  return body;
}
const requestMs: number[] = [];
const post = async (): Promise<number> => {
  const started = performance.now();
  const res = await fetch(
    `${url}/v1/generations`,
    multipart ? { method: 'POST', body: form() } : { method: 'POST', headers: { 'content-type': 'application/json' }, body: json },
  );
  await res.arrayBuffer();
  requestMs.push(performance.now() - started);
  return res.status;
};
if (process.argv.includes('--warm')) {
  await post();
  process.stdout.write(`${JSON.stringify({ warm: true })}\n`);
  process.exit(0);
}
const statuses: number[] = [];
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    for (let r = 0; r < rounds; r += 1) statuses.push(await post());
  }),
);
process.stdout.write(
  `${JSON.stringify({ statuses, seconds: (performance.now() - started) / 1000, jpegBytes: jpegs.map((b) => b.length), requestMs })}\n`,
);
