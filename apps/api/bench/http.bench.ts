import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { signUpHttp } from '../test/helpers/http-stream.ts';
import { REPO_ROOT, startServer, type ServerProcess } from '../test/helpers/server-process.ts';
import { cannonade, medianRun, vmRssBytes, type Cannonade } from './json.ts';
import { loginLoops, remove, timedDownload, timedUpload, type Target, type Timed } from './transfer.ts';

// One run prints every row of the performance table (docs: apps/api/bench/README.md):
// JSON endpoints under autocannon next to a bare Fastify server, transfers next to the
// same Fastify + multipart stack writing plaintext, server CPU-s per GiB at two sizes,
// RSS idle and peak, segmented AES-256-GCM next to a raw single-pass cipher, and logins
// with an upload running. Prints numbers; it passes or fails nothing. Servers are child
// processes.
//
//   node --import tsx apps/api/bench/http.bench.ts
//   BENCH_QUICK=1            smaller sizes and shorter runs, for iterating
//   BENCH_ONLY=json,crypto   some sections only (json, transfer, login, crypto)
//   BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'   node flags for the SFE server
//   BENCH_SERVER_LOG=/tmp/sfe.log   write the SFE server's output there when the run ends

const MiB = 1024 * 1024;
/** The node flags `pnpm start` and the Dockerfile give the server (README.md here says why). */
const PRODUCTION_NODE_FLAGS = ['--no-allocation-site-pretenuring', '--heap-growing-percent=100'];
const QUICK = process.env.BENCH_QUICK === '1';
const ONLY = new Set((process.env.BENCH_ONLY ?? 'json,transfer,login,crypto').split(',').map((s) => s.trim()));
const SIZES = QUICK
  ? [
      { label: '16 MiB', bytes: 16 * MiB, runs: 2 },
      { label: '128 MiB', bytes: 128 * MiB, runs: 1 },
    ]
  : [
      { label: '64 MiB', bytes: 64 * MiB, runs: 5 },
      { label: '1 GiB', bytes: 1024 * MiB, runs: 3 },
    ];
const LOGIN_CLIENTS = 8;
const LOGIN_UPLOAD_BYTES = (QUICK ? 64 : 512) * MiB;
const LOGIN_ALONE_MS = QUICK ? 3000 : 5000;
const JSON_CONNECTIONS = 100;
const JSON_SECONDS = QUICK ? 3 : 10;
const JSON_RUNS = QUICK ? 1 : 3;
const LIST_FILES = 50;
const CRYPTO_BYTES = (QUICK ? 64 : 256) * MiB;
const IDLE_SETTLE_MS = 2000;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const mibPerSecond = (bytes: number, seconds: number) => bytes / MiB / seconds;
const fmt = (value: number, digits = 0) => value.toFixed(digits);
const mib = (bytes: number) => `${fmt(bytes / MiB)} MiB`;

interface Row {
  direction: 'upload' | 'download';
  size: string;
  sfe: number;
  ceiling: number;
  sfeRss: number;
  sfeStartRss: number;
  ceilingRss: number;
  ceilingStartRss: number;
  sfeCpuPerGiB: number;
  ceilingCpuPerGiB: number;
  sfeMainCpuPerGiB: number;
  ceilingMainCpuPerGiB: number;
}

interface Samples {
  upload: Timed[];
  download: Timed[];
}

async function transfer(target: Target, bytes: number, block: Buffer, into: Samples): Promise<void> {
  const up = await timedUpload(target, bytes, block);
  into.upload.push(up);
  into.download.push(await timedDownload(target, up.id, bytes));
  await remove(target, up.id);
}

function summarize(size: { label: string; bytes: number }, sfe: Samples, base: Samples): Row[] {
  return (['upload', 'download'] as const).map((direction) => ({
    direction,
    size: size.label,
    sfe: mibPerSecond(size.bytes, median(sfe[direction].map((s) => s.seconds))),
    ceiling: mibPerSecond(size.bytes, median(base[direction].map((s) => s.seconds))),
    sfeRss: Math.max(...sfe[direction].map((s) => s.peakRss)),
    ceilingRss: Math.max(...base[direction].map((s) => s.peakRss)),
    sfeStartRss: Math.min(...sfe[direction].map((s) => s.startRss)),
    ceilingStartRss: Math.min(...base[direction].map((s) => s.startRss)),
    sfeCpuPerGiB: median(sfe[direction].map((s) => s.cpuSeconds)) / (size.bytes / 1024 ** 3),
    ceilingCpuPerGiB: median(base[direction].map((s) => s.cpuSeconds)) / (size.bytes / 1024 ** 3),
    sfeMainCpuPerGiB: median(sfe[direction].map((s) => s.mainThreadCpuSeconds)) / (size.bytes / 1024 ** 3),
    ceilingMainCpuPerGiB: median(base[direction].map((s) => s.mainThreadCpuSeconds)) / (size.bytes / 1024 ** 3),
  }));
}

function printTable(rows: Row[]): void {
  const header = ['transfer', 'size', 'SFE MiB/s', 'ceiling MiB/s', 'SFE/ceiling', 'CPU-s/GiB SFE | ceiling', 'main thread SFE | ceiling', 'SFE peak RSS (at start)', 'ceiling peak RSS (at start)'];
  const rss = (peak: number, start: number) => `${mib(peak)} (${mib(start)})`;
  const lines = rows.map((r) => [
    r.direction,
    r.size,
    fmt(r.sfe),
    fmt(r.ceiling),
    fmt(r.sfe / r.ceiling, 2),
    `${fmt(r.sfeCpuPerGiB, 2)} | ${fmt(r.ceilingCpuPerGiB, 2)}`,
    `${fmt(r.sfeMainCpuPerGiB, 2)} | ${fmt(r.ceilingMainCpuPerGiB, 2)}`,
    rss(r.sfeRss, r.sfeStartRss),
    rss(r.ceilingRss, r.ceilingStartRss),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const render = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(render(line));
}

async function loginUnderUpload(sfe: ServerProcess, target: Target, username: string, password: string, block: Buffer) {
  // Login rate on its own, for reference.
  const alone = loginLoops(sfe.url, username, password, LOGIN_CLIENTS);
  await sleep(LOGIN_ALONE_MS);
  const aloneCounts = await alone.stop();
  const loginAloneRate = aloneCounts.ok / (LOGIN_ALONE_MS / 1000);

  const uploadAlone = await timedUpload(target, LOGIN_UPLOAD_BYTES, block);
  await remove(target, uploadAlone.id);

  const loops = loginLoops(sfe.url, username, password, LOGIN_CLIENTS);
  // Let the login pressure build before the upload starts.
  while (loops.counts().ok < LOGIN_CLIENTS) await sleep(20);
  const before = loops.counts();
  const started = performance.now();
  const withLogins = await timedUpload(target, LOGIN_UPLOAD_BYTES, block);
  const during = loops.counts();
  const windowSeconds = (performance.now() - started) / 1000;
  const final = await loops.stop();
  await remove(target, withLogins.id);
  return {
    uploadAlone: mibPerSecond(LOGIN_UPLOAD_BYTES, uploadAlone.seconds),
    uploadWithLogins: mibPerSecond(LOGIN_UPLOAD_BYTES, withLogins.seconds),
    loginRate: (during.ok - before.ok) / windowSeconds,
    loginAloneRate,
    failedLogins: final.failed + aloneCounts.failed,
    peakRss: withLogins.peakRss,
    startRss: withLogins.startRss,
  };
}

interface JsonRows {
  list: Cannonade;
  listBase: Cannonade;
  me: Cannonade;
  healthz: Cannonade;
}

/** Each endpoint and its baseline alternate, JSON_RUNS times; the median run of each is kept. */
async function jsonEndpoints(sfe: ServerProcess, baseline: ServerProcess, token: string): Promise<JsonRows> {
  const auth = { authorization: `Bearer ${token}` };
  const load = (server: ServerProcess, route: string, headers?: Record<string, string>) =>
    cannonade({ url: `${server.url}${route}`, pid: server.pid, seconds: JSON_SECONDS, connections: JSON_CONNECTIONS, ...(headers ? { headers } : {}) });
  // Warm-up: JIT and the statement caches, not counted.
  await cannonade({ url: `${sfe.url}/api/v1/files?limit=${LIST_FILES}`, pid: sfe.pid, seconds: 2, connections: 10, headers: auth });
  await cannonade({ url: `${baseline.url}/api/v1/files?limit=${LIST_FILES}`, pid: baseline.pid, seconds: 1, connections: 10 });
  const runs = { list: [] as Cannonade[], listBase: [] as Cannonade[], me: [] as Cannonade[], healthz: [] as Cannonade[] };
  for (let run = 0; run < JSON_RUNS; run++) {
    runs.list.push(await load(sfe, `/api/v1/files?limit=${LIST_FILES}`, auth));
    runs.listBase.push(await load(baseline, `/api/v1/files?limit=${LIST_FILES}`));
    runs.me.push(await load(sfe, '/api/v1/auth/me', auth));
    runs.healthz.push(await load(sfe, '/healthz'));
  }
  for (const [name, list] of Object.entries(runs)) {
    const bad = list.reduce((sum, r) => sum + r.bad, 0);
    if (bad > 0) throw new Error(`JSON bench ${name}: ${bad} non-2xx answers or errors`);
  }
  return { list: medianRun(runs.list), listBase: medianRun(runs.listBase), me: medianRun(runs.me), healthz: medianRun(runs.healthz) };
}

interface CryptoRates {
  segEnc: number;
  segDec: number;
  rawEnc: number;
  rawDec: number;
}

/** @sfe/crypto's own bench in a child process (it must not share a heap with the servers' client). */
function cryptoRates(): CryptoRates {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'packages/crypto/bench/crypto.bench.ts', '--gcm-json', String(CRYPTO_BYTES)], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as CryptoRates;
}

function printSummary(lines: string[][]): void {
  const header = ['what', 'SFE', 'baseline in the same run', 'ratio', 'goal'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => line[i]!.length)));
  const render = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(render(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(render(line));
}

const reqs = (r: Cannonade) =>
  `${fmt(r.rps)} req/s, p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, ${fmt(r.cpuMsPerRequest, 2)} server CPU-ms/req${r.errors > 0 ? `, ${r.errors} timeouts/errors` : ''}`;

async function main(): Promise<void> {
  const started = performance.now();
  const root = await mkdtemp(path.join(tmpdir(), 'sfe-http-bench-'));
  const servers: ServerProcess[] = [];
  const summary: string[][] = [];
  try {
    await Promise.all([mkdir(path.join(root, 'sfe')), mkdir(path.join(root, 'baseline'))]);
    // As `pnpm start` runs it (UV_THREADPOOL_SIZE=8, MALLOC_ARENA_MAX=2, MALLOC_MMAP_THRESHOLD_=4 MiB), in production mode, quiet logs.
    // TRUST_PROXY lets the login loop spread its requests over client addresses.
    const nodeArgs = [...PRODUCTION_NODE_FLAGS, ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')];
    const sfe = await startServer({
      dataDir: path.join(root, 'sfe'),
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        UV_THREADPOOL_SIZE: '8',
        MALLOC_ARENA_MAX: '2',
        MALLOC_MMAP_THRESHOLD_: String(4 * MiB),
        TRUST_PROXY: 'true',
        MASTER_KEY: randomBytes(32).toString('hex'),
        JWT_SECRET: randomBytes(32).toString('hex'),
        AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'),
      },
      nodeArgs,
    });
    servers.push(sfe);
    const baseline = await startServer({
      dataDir: path.join(root, 'baseline'),
      entry: 'apps/api/bench/baseline-server.ts',
      env: { UV_THREADPOOL_SIZE: '8', MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: String(4 * MiB) },
      nodeArgs: PRODUCTION_NODE_FLAGS,
    });
    servers.push(baseline);
    await sleep(IDLE_SETTLE_MS);
    const idle = { sfe: vmRssBytes(sfe.pid), baseline: vmRssBytes(baseline.pid) };
    const org = await signUpHttp(sfe.url, 'organization');

    const sfeTarget: Target = {
      name: 'sfe',
      url: sfe.url,
      pid: sfe.pid,
      token: org.accessToken,
      uploadPath: '/api/v1/files',
      contentPath: (id) => `/api/v1/files/${id}/content`,
      deletePath: (id) => `/api/v1/files/${id}`,
    };
    const baseTarget: Target = {
      name: 'baseline',
      url: baseline.url,
      pid: baseline.pid,
      uploadPath: '/files',
      contentPath: (id) => `/files/${id}/content`,
      deletePath: (id) => `/files/${id}`,
    };
    // One pre-filled random block, repeated: the client does no per-byte work.
    const block = randomBytes(MiB);

    console.log(`\nSFE bench${QUICK ? ' (BENCH_QUICK: smaller sizes, shorter runs)' : ''}: node ${process.version}, ${availableParallelism()} cores, loopback`);

    if (ONLY.has('json')) {
      // The list the JSON section reads: LIST_FILES small files of the bench's organization.
      for (let i = 0; i < LIST_FILES; i++) await timedUpload(sfeTarget, 1024, block.subarray(0, 1024));
      const json = await jsonEndpoints(sfe, baseline, org.accessToken);
      console.log(`\nJSON endpoints, autocannon c=${JSON_CONNECTIONS}, ${JSON_SECONDS} s per run, median run of ${JSON_RUNS}:`);
      console.log(`  SFE GET /api/v1/files?limit=${LIST_FILES}   ${reqs(json.list)}`);
      console.log(`  bare Fastify, same JSON shape    ${reqs(json.listBase)}`);
      console.log(`  SFE GET /api/v1/auth/me          ${reqs(json.me)}`);
      console.log(`  SFE GET /healthz                 ${reqs(json.healthz)}`);
      summary.push(
        [`authenticated GET /api/v1/files?limit=${LIST_FILES}, c=${JSON_CONNECTIONS}`, `${fmt(json.list.rps)} req/s, p99 ${fmt(json.list.p99)} ms`, `bare Fastify, same JSON shape: ${fmt(json.listBase.rps)} req/s, p99 ${fmt(json.listBase.p99)} ms`, fmt(json.list.rps / json.listBase.rps, 3), '>= 0.5, p99 < 20 ms'],
        [`authenticated GET /api/v1/auth/me, c=${JSON_CONNECTIONS}`, `${fmt(json.me.rps)} req/s, p99 ${fmt(json.me.p99)} ms`, `/healthz of the same server: ${fmt(json.healthz.rps)} req/s`, fmt(json.me.rps / json.healthz.rps, 3), '>= 0.5'],
      );
    }

    const rows: Row[] = [];
    if (ONLY.has('transfer')) {
      // Warm-up (JIT, connections, page cache): not counted.
      const scratch: Samples = { upload: [], download: [] };
      await transfer(sfeTarget, 64 * MiB, block, scratch);
      await transfer(baseTarget, 64 * MiB, block, scratch);
      for (const size of SIZES) {
        const sfeSamples: Samples = { upload: [], download: [] };
        const baseSamples: Samples = { upload: [], download: [] };
        // Interleaved, so drift on a shared machine hits both servers alike.
        for (let run = 0; run < size.runs; run++) {
          await transfer(sfeTarget, size.bytes, block, sfeSamples);
          await transfer(baseTarget, size.bytes, block, baseSamples);
        }
        rows.push(...summarize(size, sfeSamples, baseSamples));
      }
      console.log(`\nTransfers; throughput = median of runs (${SIZES.map((s) => `${s.label} x${s.runs}`).join(', ')})`);
      console.log('ceiling = same Fastify + @fastify/multipart server, plaintext to disk (1 MiB write buffer, fsync on close), plain file download');
      console.log('CPU-s/GiB = server CPU time (user+sys) per GiB moved, median: a load-independent cost next to the wall-clock rates');
      console.log('main thread = the part of it on the server\'s main thread (the event loop), which one transfer cannot spread over cores');
      console.log('peak RSS = max over runs of the kernel high-water mark during the transfer; (at start) = RSS when it began\n');
      printTable(rows);
      const [small, large] = SIZES as [(typeof SIZES)[0], (typeof SIZES)[0]];
      const row = (direction: Row['direction'], size: string) => rows.find((r) => r.direction === direction && r.size === size)!;
      for (const direction of ['upload', 'download'] as const) {
        const r = row(direction, large.label);
        summary.push([`${direction} ${large.label}`, `${fmt(r.sfe)} MiB/s`, `${direction === 'upload' ? 'Fastify + multipart writing plaintext' : 'plain file download'}: ${fmt(r.ceiling)} MiB/s`, fmt(r.sfe / r.ceiling, 2), '>= 0.7']);
      }
      for (const direction of ['upload', 'download'] as const) {
        const a = row(direction, small.label);
        const b = row(direction, large.label);
        summary.push([
          `server CPU-s per GiB, ${direction} ${small.label} vs ${large.label}`,
          `${fmt(a.sfeCpuPerGiB, 2)} vs ${fmt(b.sfeCpuPerGiB, 2)}`,
          `ceiling ${fmt(a.ceilingCpuPerGiB, 2)} vs ${fmt(b.ceilingCpuPerGiB, 2)}`,
          `grows ${fmt(b.sfeCpuPerGiB / a.sfeCpuPerGiB, 2)}x`,
          `flat: ${large.label} within 1.2x of ${small.label}`,
        ]);
      }
    }

    const peak = rows.length > 0 ? Math.max(...rows.filter((r) => r.size === SIZES[1]!.label).map((r) => r.sfeRss)) : null;
    const basePeak = rows.length > 0 ? Math.max(...rows.filter((r) => r.size === SIZES[1]!.label).map((r) => r.ceilingRss)) : null;
    summary.push([
      'server RSS idle after start' + (peak === null ? '' : `; peak during a ${SIZES[1]!.label} transfer`),
      `${mib(idle.sfe)}${peak === null ? '' : `; ${mib(peak)}`}`,
      `bare Fastify + multipart: ${mib(idle.baseline)}${basePeak === null ? '' : `; ${mib(basePeak)}`}`,
      `${fmt(idle.sfe / idle.baseline, 2)}x`,
      '<= 150 MiB idle; <= 200 MiB peak',
    ]);

    if (ONLY.has('crypto')) {
      const c = cryptoRates();
      summary.push([
        `segmented AES-256-GCM encrypt / decrypt (${CRYPTO_BYTES / MiB} MiB in memory)`,
        `${fmt(c.segEnc)} / ${fmt(c.segDec)} MB/s`,
        `raw single-pass cipher ${fmt(c.rawEnc)} / ${fmt(c.rawDec)} MB/s`,
        `${fmt(c.segEnc / c.rawEnc, 2)} / ${fmt(c.segDec / c.rawDec, 2)}`,
        '>= 0.8 both',
      ]);
    }

    if (ONLY.has('login')) {
      const login = await loginUnderUpload(sfe, sfeTarget, org.username, org.password, block);
      console.log(`\nupload ${mib(LOGIN_UPLOAD_BYTES)} with ${LOGIN_CLIENTS} clients logging in continuously (scrypt, real work factors):`);
      console.log(`  upload alone         ${fmt(login.uploadAlone)} MiB/s`);
      console.log(`  upload with logins   ${fmt(login.uploadWithLogins)} MiB/s  (${fmt((100 * login.uploadWithLogins) / login.uploadAlone)}% of alone)`);
      console.log(`  logins during upload ${fmt(login.loginRate, 1)}/s   (logins alone: ${fmt(login.loginAloneRate, 1)}/s, failed: ${login.failedLogins})`);
      console.log(`  SFE peak RSS         ${mib(login.peakRss)} (at start ${mib(login.startRss)}; each scrypt login holds 128 MiB)`);
      summary.push(
        [`upload ${mib(LOGIN_UPLOAD_BYTES)} during ${LOGIN_CLIENTS} login loops`, `${fmt(login.uploadWithLogins)} MiB/s`, `upload alone: ${fmt(login.uploadAlone)} MiB/s`, `${fmt(login.uploadWithLogins / login.uploadAlone, 2)}x`, '>= 0.7x'],
        ['logins/s (scrypt), during the upload / alone', `${fmt(login.loginRate, 1)} / ${fmt(login.loginAloneRate, 1)}`, `bounded by the KDF (~4 scrypt/s on 2 cores)`, '', 'report'],
      );
    }

    console.log('\nSummary (the performance table; ratios are within this run):\n');
    printSummary(summary);
    console.log(`\ntotal bench time ${fmt((performance.now() - started) / 1000)} s`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    // Whatever the SFE server printed (e.g. under BENCH_SERVER_NODE_ARGS=--trace-gc), for reading afterwards.
    if (process.env.BENCH_SERVER_LOG !== undefined && servers[0] !== undefined) await writeFile(process.env.BENCH_SERVER_LOG, servers[0].log());
    await rm(root, { recursive: true, force: true });
  }
}

await main();
