import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { signUpHttp } from '../test/helpers/http-stream.ts';
import { startServer, type ServerProcess } from '../test/helpers/server-process.ts';
import { loginLoops, remove, timedDownload, timedUpload, type Target, type Timed } from './transfer.ts';

// HTTP throughput of the real server over loopback, next to a ceiling measured in the
// same run: the same Fastify + multipart stack writing plaintext to disk. Prints
// numbers; it passes or fails nothing. Both servers are child processes.
//
//   node --import tsx apps/api/bench/http.bench.ts

const MiB = 1024 * 1024;
const SIZES = [
  { label: '64 MiB', bytes: 64 * MiB, runs: 5 },
  { label: '1 GiB', bytes: 1024 * MiB, runs: 3 },
];
const LOGIN_CLIENTS = 8;
const LOGIN_UPLOAD_BYTES = 512 * MiB;
const LOGIN_ALONE_MS = 5000;

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
  }));
}

function printTable(rows: Row[]): void {
  const header = ['transfer', 'size', 'SFE MiB/s', 'ceiling MiB/s', 'SFE/ceiling', 'CPU-s/GiB SFE | ceiling', 'SFE peak RSS (at start)', 'ceiling peak RSS (at start)'];
  const rss = (peak: number, start: number) => `${mib(peak)} (${mib(start)})`;
  const lines = rows.map((r) => [
    r.direction,
    r.size,
    fmt(r.sfe),
    fmt(r.ceiling),
    fmt(r.sfe / r.ceiling, 2),
    `${fmt(r.sfeCpuPerGiB, 2)} | ${fmt(r.ceilingCpuPerGiB, 2)}`,
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

async function main(): Promise<void> {
  const started = performance.now();
  const root = await mkdtemp(path.join(tmpdir(), 'sfe-http-bench-'));
  const servers: ServerProcess[] = [];
  try {
    await Promise.all([mkdir(path.join(root, 'sfe')), mkdir(path.join(root, 'baseline'))]);
    // As `pnpm start` runs it (UV_THREADPOOL_SIZE=8), in production mode, quiet logs.
    // TRUST_PROXY lets the login loop spread its requests over client addresses.
    const sfe = await startServer({
      dataDir: path.join(root, 'sfe'),
      env: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        UV_THREADPOOL_SIZE: '8',
        TRUST_PROXY: 'true',
        MASTER_KEY: randomBytes(32).toString('hex'),
        JWT_SECRET: randomBytes(32).toString('hex'),
      },
    });
    servers.push(sfe);
    const baseline = await startServer({
      dataDir: path.join(root, 'baseline'),
      entry: 'apps/api/bench/baseline-server.ts',
      env: { UV_THREADPOOL_SIZE: '8' },
    });
    servers.push(baseline);
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

    // Warm-up (JIT, connections, page cache): not counted.
    const scratch: Samples = { upload: [], download: [] };
    await transfer(sfeTarget, 64 * MiB, block, scratch);
    await transfer(baseTarget, 64 * MiB, block, scratch);

    const rows: Row[] = [];
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

    const login = await loginUnderUpload(sfe, sfeTarget, org.username, org.password, block);

    console.log(`\nSFE HTTP bench: node ${process.version}, ${availableParallelism()} cores, loopback; throughput = median of runs (64 MiB x${SIZES[0]!.runs}, 1 GiB x${SIZES[1]!.runs})`);
    console.log('ceiling = same Fastify + @fastify/multipart server, plaintext to disk (1 MiB write buffer, fsync on close), plain file download');
    console.log('CPU-s/GiB = server CPU time (user+sys) per GiB moved, median: a load-independent cost next to the wall-clock rates');
    console.log('peak RSS = max over runs of the kernel high-water mark during the transfer; (at start) = RSS when it began\n');
    printTable(rows);
    console.log(`\nupload ${mib(LOGIN_UPLOAD_BYTES)} with ${LOGIN_CLIENTS} clients logging in continuously (scrypt, real work factors):`);
    console.log(`  upload alone         ${fmt(login.uploadAlone)} MiB/s`);
    console.log(`  upload with logins   ${fmt(login.uploadWithLogins)} MiB/s  (${fmt((100 * login.uploadWithLogins) / login.uploadAlone)}% of alone)`);
    console.log(`  logins during upload ${fmt(login.loginRate, 1)}/s   (logins alone: ${fmt(login.loginAloneRate, 1)}/s, failed: ${login.failedLogins})`);
    console.log(`  SFE peak RSS         ${mib(login.peakRss)} (at start ${mib(login.startRss)}; each scrypt login holds 128 MiB)`);
    console.log(`\ntotal bench time ${fmt((performance.now() - started) / 1000)} s`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  }
}

await main();
