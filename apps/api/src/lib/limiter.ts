/**
 * Caps how many expensive jobs (scrypt, PBKDF2, RSA key generation) run at once.
 * They share libuv's thread pool with file I/O; left unbounded, a burst of logins
 * starves uploads (PERFORMANCE.md). Jobs beyond the cap wait in FIFO order.
 */
export interface Limiter {
  run<T>(job: () => Promise<T>): Promise<T>;
}

export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async run(job) {
      if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await job();
      } finally {
        release();
      }
    },
  };
}
