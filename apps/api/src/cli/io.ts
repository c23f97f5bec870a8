import { createInterface } from 'node:readline';
import confirm from '@inquirer/confirm';
import password from '@inquirer/password';
import { Presets, SingleBar } from 'cli-progress';

/** Exit codes of the CLI contract (docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, unavailable: 4 } as const;

/** An error the CLI reports as one line with its own exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usage = (message: string) => new CliError(message, EXIT.usage);
export const refused = (message: string) => new CliError(message, EXIT.refused);

let stdinLines: AsyncIterator<string> | null = null;

/** The next line of standard input (shared, so several reads take consecutive lines). */
export async function readStdinLine(what: string): Promise<string> {
  stdinLines ??= createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const next = await stdinLines.next();
  if (next.done) throw usage(`no ${what} on standard input`);
  return next.value;
}

/** Every remaining line of standard input. */
export async function readStdinLines(): Promise<string[]> {
  stdinLines ??= createInterface({ input: process.stdin, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const lines: string[] = [];
  for (let next = await stdinLines.next(); !next.done; next = await stdinLines.next()) lines.push(next.value);
  return lines;
}

/**
 * A secret: the first line of standard input with `fromStdin` (or when stdin is not a
 * terminal), else a prompt that echoes nothing (asked twice when `repeat`). Never argv.
 */
export async function readSecret(what: string, options: { fromStdin: boolean; repeat?: boolean }): Promise<string> {
  if (options.fromStdin || !process.stdin.isTTY) return readStdinLine(what);
  const first = await password({ message: `${what}:` }, { output: process.stderr });
  if (options.repeat) {
    const again = await password({ message: `Repeat ${what}:` }, { output: process.stderr });
    if (again !== first) throw usage(`the two ${what}s do not match`);
  }
  return first;
}

/**
 * Confirmation for a destructive step: `--yes` skips it; on a terminal the operator is
 * asked; without a terminal and without --yes the command is refused (exit 3).
 */
export async function confirmOrRefuse(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw refused('not confirmed: run again with --yes');
  if (!(await confirm({ message: question, default: false }, { output: process.stderr }))) throw refused('not confirmed');
}

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
export function progressBar(label: string): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total} {eta_formatted}`, stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** `--json`: exactly one JSON document on stdout. */
export const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** Human output goes to stdout only when it is the command's result; notes go to stderr. */
export const note = (message: string) => process.stderr.write(`${message}\n`);
