import { loadConfig, type Config } from '../config.ts';
import { createContainer, type Container } from '../container.ts';
import type { Actor } from '../lib/actor.ts';

/**
 * Who the audit log names for an operator command: the CLI has no signed-in user, so
 * its records carry this fixed actor (and the host's "cli" in place of an IP).
 */
export const OPERATOR: Actor = Object.freeze({ id: 'operator', role: 'admin', username: 'operator', ip: 'cli', sessionFamily: null });

/** Warnings and errors of the services go to stderr, one line each (stdout stays for results). */
const log = {
  error: (_context: object, message: string) => process.stderr.write(`sfe: ${message}\n`),
};

/** The API's configuration; its notes for the operator (e.g. generated development keys) go to stderr. */
export function loadCliConfig(): Config {
  const config = loadConfig();
  for (const warning of config.warnings) process.stderr.write(`sfe: warning: ${warning}\n`);
  return config;
}

/** The same configuration (environment) and composition root as the API. */
export async function withContainer<T>(fn: (container: Container, config: Config) => Promise<T>, config: Config = loadCliConfig()): Promise<T> {
  const container = await createContainer(config, { log });
  try {
    return await fn(container, config);
  } finally {
    await container.close();
  }
}
