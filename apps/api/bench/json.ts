import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

// JSON endpoints under load: autocannon (programmatic, in the bench process) against a
// server child process, with the server's own CPU time per request next to it.

export interface Cannonade {
  rps: number;
  p50: number;
  p99: number;
  /** Non-2xx answers: any of them makes the row meaningless. */
  bad: number;
  /** Requests that timed out or failed at the socket (an overloaded machine). */
  errors: number;
  /** Server CPU milliseconds (user + sys) per answered request. */
  cpuMsPerRequest: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export function vmRssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] === undefined ? 0 : Number(match[1]) * 1024;
}

export async function cannonade(options: {
  url: string;
  pid: number;
  headers?: Record<string, string>;
  seconds: number;
  connections: number;
}): Promise<Cannonade> {
  const cpuBefore = cpuSecondsOf(options.pid);
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    headers: options.headers ?? {},
  });
  const cpu = cpuSecondsOf(options.pid) - cpuBefore;
  const answered = result.requests.total;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bad: result.non2xx,
    errors: result.errors + result.timeouts,
    cpuMsPerRequest: answered > 0 ? (cpu * 1000) / answered : Number.NaN,
  };
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** The run with the median request rate: its latencies belong to the same run. */
export function medianRun(runs: Cannonade[]): Cannonade {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[(sorted.length - 1) >> 1]!;
}
