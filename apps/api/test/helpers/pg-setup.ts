import { inject } from 'vitest';
import { PG_ADMIN_URL_ENV } from './database.ts';

// Runs in every worker of the `api-pg` project: the helpers read the server from the
// environment, so child processes (CLI, server) started by a test inherit the choice.
process.env[PG_ADMIN_URL_ENV] = inject('pgAdminUrl');
