import { ensureServerBuilt } from './server-build.ts';

/** Global setup of the projects that start the server as a process: see server-build.ts. */
export default async function setup(): Promise<void> {
  await ensureServerBuilt();
}
