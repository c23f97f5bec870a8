import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { repeated, send, streamedMultipart } from '../test/helpers/http-stream.ts';
import { peakRssBytes } from '../test/helpers/server-process.ts';

// Timed transfers against a server child process, and its peak memory during them.

export interface Target {
  name: string;
  url: string;
  pid: number;
  /** Bearer token for SFE; the baseline needs none. */
  token?: string;
  uploadPath: string;
  contentPath(id: string): string;
  deletePath(id: string): string;
}

const auth = (target: Target): Record<string, string> => (target.token ? { authorization: `Bearer ${target.token}` } : {});

function vmRss(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

// Linux reports process CPU time in clock ticks; USER_HZ is 100 on every mainstream build.
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * User + system CPU seconds `pid` has used so far (/proc/<pid>/stat fields 14 and 15);
 * with `mainThreadOnly`, those of its main thread alone (the event loop: task id = pid).
 */
function cpuSeconds(pid: number, mainThreadOnly = false): number {
  const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Peak RSS and CPU time of `pid` over one phase. Resets the kernel's high-water mark (clear_refs 5)
 * so each phase gets its own peak; polls VmRSS as well in case the reset is refused.
 */
export function trackPeakRss(pid: number): () => { peakRss: number; startRss: number; cpuSeconds: number; mainThreadCpuSeconds: number } {
  const startRss = vmRss(pid);
  const startCpu = cpuSeconds(pid);
  const startMainCpu = cpuSeconds(pid, true);
  let reset = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    reset = true;
  } catch {
    // Not permitted here: the polled maximum stands in.
  }
  let polled = startRss;
  const timer = setInterval(() => {
    polled = Math.max(polled, vmRss(pid));
  }, 20);
  return () => {
    clearInterval(timer);
    const hwm = reset ? (peakRssBytes(pid) ?? 0) : 0;
    return {
      peakRss: Math.max(hwm, polled, vmRss(pid)),
      startRss,
      cpuSeconds: cpuSeconds(pid) - startCpu,
      mainThreadCpuSeconds: cpuSeconds(pid, true) - startMainCpu,
    };
  };
}

export interface Timed {
  seconds: number;
  peakRss: number;
  /** RSS when the phase began: the peak's baseline (allocator arenas kept from earlier work). */
  startRss: number;
  /** CPU seconds the server spent in the phase: unlike wall time, barely moved by other load. */
  cpuSeconds: number;
  /** The part of cpuSeconds spent on the main thread (the event loop), the one that serializes a transfer. */
  mainThreadCpuSeconds: number;
}

export async function timedUpload(target: Target, size: number, block: Buffer): Promise<Timed & { id: string }> {
  const multipart = streamedMultipart({ filename: 'bench.bin', size, source: () => repeated(block, size) });
  const peak = trackPeakRss(target.pid);
  const started = performance.now();
  const result = await send(`${target.url}${target.uploadPath}`, {
    headers: { ...multipart.headers, ...auth(target) },
    body: multipart.body(),
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = peak();
  if (result.status !== 201) throw new Error(`${target.name} upload: ${result.status} ${result.body.toString().slice(0, 300)}`);
  return { seconds, ...rss, id: result.json<{ id: string }>().id };
}

/** Reads the whole response and throws it away; only the byte count is kept. */
export async function timedDownload(target: Target, id: string, size: number): Promise<Timed> {
  const peak = trackPeakRss(target.pid);
  const started = performance.now();
  const received = await new Promise<number>((resolve, reject) => {
    get(`${target.url}${target.contentPath(id)}`, { headers: auth(target), agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${target.name} download: ${String(res.statusCode)}`));
        return;
      }
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.once('end', () => resolve(bytes));
      res.once('error', reject);
    }).once('error', reject);
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = peak();
  if (received !== size) throw new Error(`${target.name} download: got ${received} bytes, expected ${size}`);
  return { seconds, ...rss };
}

export async function remove(target: Target, id: string): Promise<void> {
  const result = await send(`${target.url}${target.deletePath(id)}`, { method: 'DELETE', headers: auth(target) });
  if (result.status !== 204) throw new Error(`${target.name} delete: ${result.status}`);
}

/**
 * `clients` concurrent login loops until stop() resolves them. Each request claims its
 * own client address (X-Forwarded-For; the server runs with TRUST_PROXY=true) so the
 * per-IP limit of 30/min does not turn the loop into a 429 benchmark.
 */
export function loginLoops(url: string, username: string, password: string, clients: number) {
  let running = true;
  let ok = 0;
  let failed = 0;
  let sequence = 0;
  const loop = async () => {
    while (running) {
      const n = sequence++;
      const response = await fetch(`${url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` },
        body: JSON.stringify({ username, password }),
      });
      await response.arrayBuffer();
      if (response.status === 200) ok++;
      else failed++;
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    counts: () => ({ ok, failed }),
    async stop(): Promise<{ ok: number; failed: number }> {
      running = false;
      await Promise.all(loops);
      return { ok, failed };
    },
  };
}
