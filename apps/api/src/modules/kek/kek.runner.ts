import type { Rotation } from '@sfe/contract';
import type { Actor } from '../../lib/actor.ts';
import type { ErrorLogger } from '../audit/audit.service.ts';
import type { KekService } from './kek.service.ts';

/**
 * Runs an API-started rotation in the background of this process: the request that
 * started it gets 202 at once and polls the job. On shutdown the loop stops between
 * batches and gives its lease up, so a rerun (API or CLI) continues at once.
 */
export function createRotationRunner(deps: { kek: KekService; log: ErrorLogger }) {
  const controller = new AbortController();
  const running = new Set<Promise<unknown>>();
  return {
    async start(actor: Actor): Promise<Rotation> {
      const { job, run } = await deps.kek.begin(actor).catch(async (error: unknown) => {
        await deps.kek.recordRefusal(actor, error);
        throw error;
      });
      const work = run({ signal: controller.signal })
        .catch((error: unknown) => {
          if (!controller.signal.aborted) deps.log.error({ err: error, jobId: job.id }, 'key rotation failed');
        })
        .finally(() => running.delete(work));
      running.add(work);
      return deps.kek.rotation(job.id);
    },
    async stop(): Promise<void> {
      controller.abort();
      await Promise.allSettled([...running]);
    },
  };
}
export type RotationRunner = ReturnType<typeof createRotationRunner>;
