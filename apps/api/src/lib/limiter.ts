/**
 * Caps how many expensive jobs (scrypt, PBKDF2, RSA key generation) run at once,
 * so a burst of logins neither takes every core nor holds 128 MiB per scrypt
 * without bound. (@sfe/crypto also runs these jobs at a lower priority, so what
 * does run yields to transfers.) Jobs beyond the cap wait in FIFO order.
 */
export interface Limiter {
  run<T>(job: () => Promise<T>): Promise<T>;
}

export interface LimiterOptions {
  /** At most this many jobs wait; one more is refused with `whenFull()` instead of queueing. */
  maxQueue?: number;
  whenFull?: () => Error;
}

export function createLimiter(concurrency: number, options: LimiterOptions = {}): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    async run(job) {
      if (active >= concurrency) {
        if (waiting.length >= maxQueue) throw options.whenFull?.() ?? new Error('limiter queue is full');
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      active++;
      try {
        return await job();
      } finally {
        release();
      }
    },
  };
}
