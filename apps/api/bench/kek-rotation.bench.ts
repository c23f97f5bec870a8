import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { Rotation } from '@sfe/contract';
import { createKekRing, generateDek, kekId, parseKek, unwrapDek, wrapDek } from '@sfe/crypto';
import { loadConfig } from '../src/config.ts';
import { createContainer } from '../src/container.ts';
import { createPrismaClient } from '../src/db/client.ts';
import { dekAssociatedData } from '../src/modules/files/files.context.ts';
import { sfe } from '../test/helpers/cli.ts';
import { callJson, loginHttp, signUpHttp } from '../test/helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../test/helpers/server-process.ts';

// KEK rotation: DEKs re-wrapped per second over 10,000 files by the real service
// (batched compare-and-set statements, progress, audit), next to the raw
// unwrapDek+wrapDek rate of @sfe/crypto measured in the same run; then the API's
// latency on an authenticated route, idle and while a rotation started through the
// API runs in the same server. Prints numbers; it passes or fails nothing.
//
//   node --import tsx apps/api/bench/kek-rotation.bench.ts
//   KEK_ROTATION_BATCH_SIZE=200 node --import tsx apps/api/bench/kek-rotation.bench.ts

const FILES = 10_000;
const RAW_RUNS = 3;
const IDLE_SECONDS = 5;
const CONNECTIONS = 16;
const ADMIN = { username: 'bench-admin', password: `pw-${randomBytes(12).toString('base64url')}` };

const [K0, K1] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')] as const;
const idOf = (hex: string) => kekId(parseKek(hex));
const batchSizeEnv: Record<string, string> = process.env.KEK_ROTATION_BATCH_SIZE ? { KEK_ROTATION_BATCH_SIZE: process.env.KEK_ROTATION_BATCH_SIZE } : {};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** 10,000 live file rows whose DEKs are wrapped under K0; no blobs (rotation never reads them). */
async function seedFiles(databaseUrl: string, ownerId: string): Promise<void> {
  const ring = createKekRing(parseKek(K0));
  const prisma = createPrismaClient(databaseUrl);
  try {
    const rows = Array.from({ length: FILES }, (_, i) => {
      const id = randomUUID();
      const dek = generateDek();
      const wrappedKey = new Uint8Array(wrapDek(ring, dek, dekAssociatedData(id)));
      dek.fill(0);
      return {
        id,
        ownerId,
        filename: `bench-${i}.bin`,
        contentType: 'application/octet-stream',
        size: 1024n,
        sha256: '0'.repeat(64),
        algorithm: 'aes_256_gcm' as const,
        description: null,
        blobKey: `bench-${id}`,
        wrappedKey,
        wrappedKeyVersion: 1,
        kekId: ring.activeKeyId,
      };
    });
    await prisma.$transaction(async (tx) => {
      await tx.encryptedFile.createMany({ data: rows });
    });
  } finally {
    await prisma.$disconnect();
  }
}

/** unwrapDek + wrapDek in a loop over the stored wrapped DEKs: the crypto ceiling of a rewrap. */
async function rawRewrapRate(databaseUrl: string): Promise<number> {
  const prisma = createPrismaClient(databaseUrl);
  const rows = await prisma.encryptedFile.findMany({ select: { id: true, wrappedKey: true } });
  await prisma.$disconnect();
  const inputs = rows.map((row) => ({ wrapped: Buffer.from(row.wrappedKey ?? new Uint8Array()), associatedData: dekAssociatedData(row.id) }));
  const ring = createKekRing(parseKek(K1), [parseKek(K0)]);
  const rates: number[] = [];
  for (let run = 0; run < RAW_RUNS; run++) {
    const started = performance.now();
    for (const input of inputs) {
      const dek = unwrapDek(ring, input.wrapped, input.associatedData);
      wrapDek(ring, dek, input.associatedData);
      dek.fill(0);
    }
    rates.push(inputs.length / ((performance.now() - started) / 1000));
  }
  return median(rates);
}

interface ServiceRotation {
  label: string;
  batchSize: number;
  /** From the claim to the last batch's progress record. */
  rewrapRate: number;
  /** The whole run(): batches, then counts and the closing verify of every DEK. */
  endToEndRate: number;
  rewrapped: number;
}

/** One rotation through the real service, in this process, as `sfe kek rotate` runs it. */
async function serviceRotation(dataDir: string, active: string, previous: string): Promise<ServiceRotation> {
  const config = { ...loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, MASTER_KEY: active, MASTER_KEY_PREVIOUS: previous, ...batchSizeEnv }) };
  const container = await createContainer(config, { log: { error() {} } });
  try {
    const started = performance.now();
    const { run } = await container.services.kek.begin(null);
    let lastBatch = started;
    const report = await run({ onProgress: () => (lastBatch = performance.now()) });
    const ended = performance.now();
    return {
      label: `${idOf(previous)} -> ${idOf(active)}`,
      batchSize: config.kekRotation.batchSize,
      rewrapRate: report.rewrapped / ((lastBatch - started) / 1000),
      endToEndRate: report.rewrapped / ((ended - started) / 1000),
      rewrapped: report.rewrapped,
    };
  } finally {
    await container.close();
  }
}

interface Latency {
  seconds: number;
  requests: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

/** autocannon on GET /auth/me until `until` settles (or for `seconds`). */
async function loadAuthMe(url: string, token: string, window: { seconds: number } | { until: Promise<unknown> }): Promise<Latency> {
  const started = performance.now();
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/api/v1/auth/me`,
        headers: { authorization: `Bearer ${token}` },
        connections: CONNECTIONS,
        duration: 'seconds' in window ? window.seconds : 600,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if ('until' in window) void window.until.finally(() => instance.stop());
  });
  const result = await finished;
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    requests: result.requests.total,
    rate: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function untilFinished(url: string, token: string, id: string): Promise<Rotation> {
  for (;;) {
    const polled = await callJson<Rotation>(url, 'GET', `/api/v1/admin/kek/rotations/${id}`, { token });
    if (polled.status !== 200) throw new Error(`polling the rotation: ${polled.status} ${JSON.stringify(polled.body)}`);
    if (polled.body.status !== 'running') return polled.body;
    await sleep(50);
  }
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const render = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(render(row));
}

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sfe-kek-bench-'));
  const databaseUrl = `file:${path.join(dataDir, 'sfe.db')}`;
  let server: ServerProcess | null = null;
  try {
    // The admin comes from the CLI (admins cannot sign up); it also applies the migrations.
    const created = await sfe(['admin', 'create', '--username', ADMIN.username, '--password-stdin'], { DATA_DIR: dataDir, MASTER_KEY: K0 }, `${ADMIN.password}\n`);
    if (created.code !== 0) throw new Error(`sfe admin create: ${created.stderr}`);
    const adminId = (JSON.parse(created.stdout) as { created: { id: string } }).created.id;
    await seedFiles(databaseUrl, adminId);

    // There and back: two samples of the service, and the data ends under K0 for the API
    // run. The raw rate is taken right before each, so a ratio never spans a change in
    // the machine's load.
    const rawBefore: number[] = [];
    const rotations: ServiceRotation[] = [];
    for (const [active, previous] of [
      [K1, K0],
      [K0, K1],
    ] as const) {
      rawBefore.push(await rawRewrapRate(databaseUrl));
      rotations.push(await serviceRotation(dataDir, active, previous));
    }
    const raw = median(rawBefore);

    server = await startServer({
      dataDir,
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        UV_THREADPOOL_SIZE: '8',
        MASTER_KEY: K1,
        MASTER_KEY_PREVIOUS: K0,
        JWT_SECRET: randomBytes(32).toString('hex'),
        AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'),
        ...batchSizeEnv,
      },
    });
    const user = await signUpHttp(server.url, 'organization');
    const admin = await loginHttp(server.url, ADMIN.username, ADMIN.password);

    await loadAuthMe(server.url, user.accessToken, { seconds: 2 }); // warm-up, discarded
    const idle = await loadAuthMe(server.url, user.accessToken, { seconds: IDLE_SECONDS });

    const begun = await callJson<Rotation>(server.url, 'POST', '/api/v1/admin/kek/rotate', { token: admin.accessToken, body: {} });
    if (begun.status !== 202) throw new Error(`POST /admin/kek/rotate: ${begun.status} ${JSON.stringify(begun.body)}`);
    const finished = untilFinished(server.url, admin.accessToken, begun.body.id);
    const during = await loadAuthMe(server.url, user.accessToken, { until: finished });
    const apiRotation = await finished;
    const apiSeconds = (Date.parse(apiRotation.finishedAt ?? '') - Date.parse(apiRotation.startedAt ?? '')) / 1000;

    console.log(`\nKEK rotation of ${fmt(FILES)} DEKs (batch ${rotations[0]!.batchSize}), ${((performance.now() - started) / 1000).toFixed(0)} s in all\n`);
    printTable(
      ['what', 'DEKs/s', 'x raw (the one just before)'],
      [
        [`raw unwrapDek+wrapDek (@sfe/crypto, in process; ${rawBefore.map((r) => fmt(r)).join(', ')})`, fmt(raw), '1.00'],
        ...rotations.flatMap((r, i) => [
          [`service rotation ${r.label}: batches`, fmt(r.rewrapRate), fmt(r.rewrapRate / rawBefore[i]!, 2)],
          [`  same, end to end (+ closing verify)`, fmt(r.endToEndRate), fmt(r.endToEndRate / rawBefore[i]!, 2)],
        ]),
        [`API rotation under GET /auth/me load (${apiRotation.status}, ${fmt(apiRotation.rewrapped)})`, fmt(apiRotation.rewrapped / apiSeconds), fmt(apiRotation.rewrapped / apiSeconds / raw, 2)],
      ],
    );
    console.log(`\nGET /api/v1/auth/me, autocannon c=${CONNECTIONS}\n`);
    printTable(
      ['window', 'seconds', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors'],
      (
        [
          ['idle', idle],
          ['during rotation', during],
        ] as const
      ).map(([label, m]) => [label, m.seconds.toFixed(1), fmt(m.rate), fmt(m.p50), fmt(m.p99), fmt(m.max), String(m.errors)]),
    );
    console.log(`\np99 during rotation / idle: ${(during.p99 / idle.p99).toFixed(2)}x`);
  } finally {
    if (server) await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
