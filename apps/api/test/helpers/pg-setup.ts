import { inject } from 'vitest';
import { loadDatabaseDriver } from '../../src/db/client.ts';
import { PG_ADMIN_URL_ENV } from './database.ts';

// Runs in every worker of the `api-pg` project: the helpers read the server from the
// environment, so child processes (CLI, server) started by a test inherit the choice.
process.env[PG_ADMIN_URL_ENV] = inject('pgAdminUrl');

// Tests open their own clients on the server's databases too.
await loadDatabaseDriver('postgresql://preload');
