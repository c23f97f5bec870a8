import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { PreflightError } from './lib/errors.ts';

/** Starts the API: validated config, migrations, listen, graceful close on SIGTERM/SIGINT. */
async function main() {
  // Everything we create under DATA_DIR (databases, blobs, dev secrets) is ours alone.
  process.umask(0o077);
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`sfe: configuration error: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  let app;
  try {
    app = await buildApp(config);
  } catch (error) {
    if (error instanceof PreflightError) {
      console.error(`sfe: start-up refused: ${error.message}`);
      process.exit(78);
    }
    throw error;
  }
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    // In-flight uploads either finish or are aborted by their own cleanup (no row, no blob).
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ address }, 'SFE is listening');
  // One plain line for the person who typed the start command (the log itself is JSON).
  process.stderr.write(`\nSFE is ready: open ${address} in a browser (API docs: ${address}/api/docs)\n\n`);
}

main().catch((error: unknown) => {
  console.error('sfe: failed to start:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});
