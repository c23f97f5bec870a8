/**
 * One run prints: segmented AEAD throughput next to a single-pass raw cipher
 * over the same data (both algorithms), peak RSS for 64 MiB vs 1 GiB streams
 * (child processes), and the slow primitives in ms. Medians of a few runs;
 * the machine is shared and noisy, so compare ratios from the same run.
 *   npx pnpm@10.34.9 --filter @sfe/crypto bench
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import {
  createDecryptStream,
  createEncryptStream,
  DEFAULT_SEGMENT_SIZE,
  generateDek,
  generateRsaKeyPair,
  hashPassword,
  MODERN_ALGORITHMS,
  protectPrivateKey,
  rsaUnwrapDek,
  rsaWrapDek,
  type FileAlgorithm,
} from '../src/index.ts';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const DATA = 256 * MiB;
const RUNS = 5;
const AD = Buffer.from('file:bench');

/** A generated source: the same 64 KiB block repeated, never materialised. */
function generated(total: number): Readable {
  const block = randomBytes(CHUNK);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(CHUNK, total - sent);
      sent += size;
      this.push(size === CHUNK ? block : block.subarray(0, size));
    },
  });
}

function sink(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

function rawCipher(algorithm: 'aes-256-gcm' | 'chacha20-poly1305', decrypt: boolean): Transform {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const options = { authTagLength: 16 };
  const cipher = decrypt
    ? createDecipheriv(algorithm as CipherGCMTypes, key, iv, options)
    : createCipheriv(algorithm as CipherGCMTypes, key, iv, options);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      callback(null, cipher.update(chunk));
    },
    flush(callback: TransformCallback) {
      // Throughput only: the raw decrypt has no real tag to check.
      if (!decrypt) this.push((cipher as ReturnType<typeof createCipheriv>).final());
      callback();
    },
  });
}

async function timed(run: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

async function encryptToMemory(dek: Buffer, algorithm: FileAlgorithm, bytes = DATA): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  await pipeline(generated(bytes), createEncryptStream(dek, AD, { algorithm }), new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  }));
  // Re-chunk to 64 KiB like a file read stream would deliver it.
  const blob = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let i = 0; i < blob.length; i += CHUNK) out.push(blob.subarray(i, i + CHUNK));
  return out;
}

/**
 * One untimed warm-up round (JIT, heap), then RUNS timed rounds, each running every
 * job once in the order given; the median of each job in MB/s over `bytes`.
 */
async function roundsMbps<K extends string>(bytes: number, jobs: Record<K, () => Promise<void>>): Promise<Record<K, number>> {
  const names = Object.keys(jobs) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let run = -1; run < RUNS; run += 1) {
    for (const name of names) {
      const ms = await timed(jobs[name]);
      if (run >= 0) samples[name].push(ms);
    }
  }
  return Object.fromEntries(names.map((name) => [name, mbps(bytes, median(samples[name]))])) as Record<K, number>;
}

async function throughput(): Promise<string[]> {
  const rows: string[] = [];
  for (const algorithm of MODERN_ALGORITHMS) {
    const raw = algorithm as 'aes-256-gcm' | 'chacha20-poly1305';
    const dek = generateDek();
    const ciphertext = await encryptToMemory(dek, algorithm);
    // Both decrypts read the same ciphertext chunks: a raw decrypt of the one
    // cached source block would be compared with a segmented decrypt reading
    // 256 MiB from memory.
    const { rawGcm, rawEnc, segEnc, rawDec, segDec } = await roundsMbps(DATA, {
      rawGcm: () => pipeline(generated(DATA), rawCipher('aes-256-gcm', false), sink()),
      rawEnc: () => pipeline(generated(DATA), rawCipher(raw, false), sink()),
      segEnc: () => pipeline(generated(DATA), createEncryptStream(dek, AD, { algorithm }), sink()),
      rawDec: () => pipeline(Readable.from(ciphertext, { objectMode: false }), rawCipher(raw, true), sink()),
      segDec: () => pipeline(Readable.from(ciphertext, { objectMode: false }), createDecryptStream(dek, AD), sink()),
    });
    const row = (op: string, seg: number, base: number, baseName: string): string =>
      `| ${algorithm.padEnd(17)} | ${op.padEnd(7)} | ${seg.toFixed(0).padStart(9)} | ${`${base.toFixed(0).padStart(5)} ${baseName}`.padEnd(29)} | ${(seg / base).toFixed(2).padStart(5)} |`;
    rows.push(row('encrypt', segEnc, rawGcm, 'raw aes-256-gcm'));
    rows.push(row('decrypt', segDec, rawGcm, 'raw aes-256-gcm'));
    if (algorithm !== 'aes-256-gcm') {
      rows.push(row('encrypt', segEnc, rawEnc, `raw ${algorithm.slice(0, 8)}`));
      rows.push(row('decrypt', segDec, rawDec, `raw ${algorithm.slice(0, 8)}`));
    } else {
      rows.push(row('decrypt', segDec, rawDec, 'raw aes-gcm dec'));
    }
  }
  return rows;
}

/**
 * Child mode: generated source -> encrypt -> decrypt -> sink; prints peak RSS
 * in MiB. RSS is sampled rather than read from getrusage: on Linux ru_maxrss
 * survives fork+exec, so a child would report its parent's peak.
 */
async function rssChild(bytes: number): Promise<void> {
  const dek = generateDek();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  await pipeline(generated(bytes), createEncryptStream(dek, AD), createDecryptStream(dek, AD), sink());
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  process.stdout.write(`${(peak / MiB).toFixed(1)}\n`);
}

function peakRss(bytes: number): string {
  const self = fileURLToPath(import.meta.url);
  return execFileSync(process.execPath, ['--import', 'tsx', self, '--rss', String(bytes)], { encoding: 'utf8' }).trim();
}

async function msOf(label: string, runs: number, fn: () => Promise<unknown>): Promise<string> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) samples.push(await timed(async () => { await fn(); }));
  return `| ${label.padEnd(34)} | ${median(samples).toFixed(1).padStart(9)} | ${String(runs).padStart(4)} |`;
}

async function slowPrimitives(): Promise<string[]> {
  const pair2048 = await generateRsaKeyPair(2048);
  const pair4096 = await generateRsaKeyPair(4096);
  const dek = generateDek();
  const wrapped2048 = await rsaWrapDek(pair2048.publicKeyPem, dek);
  const wrapped4096 = await rsaWrapDek(pair4096.publicKeyPem, dek);
  const context = { userId: 'u', fingerprint: pair2048.fingerprint };
  return [
    await msOf('RSA-2048 key generation', 5, () => generateRsaKeyPair(2048)),
    await msOf('RSA-4096 key generation', 3, () => generateRsaKeyPair(4096)),
    await msOf('RSA-OAEP-SHA256 wrap, 2048', 20, () => rsaWrapDek(pair2048.publicKeyPem, dek)),
    await msOf('RSA-OAEP-SHA256 unwrap, 2048', 20, () => rsaUnwrapDek(pair2048.privateKeyDer, wrapped2048)),
    await msOf('RSA-OAEP-SHA256 wrap, 4096', 20, () => rsaWrapDek(pair4096.publicKeyPem, dek)),
    await msOf('RSA-OAEP-SHA256 unwrap, 4096', 20, () => rsaUnwrapDek(pair4096.privateKeyDer, wrapped4096)),
    await msOf('PBKDF2-SHA256 600k (protect key)', 3, () => protectPrivateKey(pair2048.privateKeyDer, 'pw', context)),
    await msOf('scrypt N=2^17 r=8 p=1 (hash)', 3, () => hashPassword('correct horse battery staple')),
  ];
}

/**
 * Child mode for the API bench's summary: AES-256-GCM only, segmented vs raw
 * single-pass, MB/s as one JSON line (median of RUNS over `bytes`).
 */
async function gcmJson(bytes: number): Promise<void> {
  const dek = generateDek();
  const ciphertext = await encryptToMemory(dek, 'aes-256-gcm', bytes);
  // Same-data baselines and one warm-up round, as in throughput().
  const result = await roundsMbps(bytes, {
    rawEnc: () => pipeline(generated(bytes), rawCipher('aes-256-gcm', false), sink()),
    segEnc: () => pipeline(generated(bytes), createEncryptStream(dek, AD), sink()),
    rawDec: () => pipeline(Readable.from(ciphertext, { objectMode: false }), rawCipher('aes-256-gcm', true), sink()),
    segDec: () => pipeline(Readable.from(ciphertext, { objectMode: false }), createDecryptStream(dek, AD), sink()),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(): Promise<void> {
  const rssFlag = process.argv.indexOf('--rss');
  if (rssFlag !== -1) {
    await rssChild(Number(process.argv[rssFlag + 1]));
    return;
  }
  const gcmFlag = process.argv.indexOf('--gcm-json');
  if (gcmFlag !== -1) {
    await gcmJson(Number(process.argv[gcmFlag + 1]));
    return;
  }
  const started = Date.now();
  console.log(`Node ${process.version}, OpenSSL ${process.versions.openssl}; ${DATA / MiB} MiB, ${CHUNK / 1024} KiB source chunks, ${DEFAULT_SEGMENT_SIZE / 1024} KiB segments, median of ${RUNS}\n`);
  console.log('| stream (encrypt -> decrypt, child process) | peak RSS MiB |');
  console.log('|--------------------------------------------|--------------|');
  for (const size of [64 * MiB, 1024 * MiB]) {
    console.log(`| ${`${size / MiB} MiB`.padEnd(42)} | ${peakRss(size).padStart(12)} |`);
  }

  console.log('\n| algorithm         | op      | segm MB/s | baseline MB/s                 | ratio |');
  console.log('|-------------------|---------|-----------|-------------------------------|-------|');
  for (const row of await throughput()) console.log(row);

  console.log('\n| operation                          | median ms | runs |');
  console.log('|------------------------------------|-----------|------|');
  for (const row of await slowPrimitives()) console.log(row);
  console.log(`\ntotal bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
