// `node --import ./module-log.mjs`: every module URL the process resolves is appended to
// the file named by SFE_MODULE_LOG (hooks in module-log-hooks.mjs, off the main thread).
import { register } from 'node:module';

register('./module-log-hooks.mjs', import.meta.url, { data: { file: process.env.SFE_MODULE_LOG } });
