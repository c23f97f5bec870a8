import { once } from 'node:events';
import { createServer } from 'node:net';

/** Asks the kernel for a free loopback port; the short race until a child binds it is accepted in tests. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}
