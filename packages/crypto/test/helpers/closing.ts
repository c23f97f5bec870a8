import { afterAll } from 'vitest';

/** Returns `keep`: what a test file passes through it is closed once the file's tests end. */
export function closedAfterAll<T extends { close(): Promise<void> }>(): (made: T) => T {
  const made: T[] = [];
  afterAll(async () => {
    await Promise.all(made.map((item) => item.close()));
  });
  return (item) => {
    made.push(item);
    return item;
  };
}
