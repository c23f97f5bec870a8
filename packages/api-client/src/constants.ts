import type {
  API_PREFIX as ContractPrefix,
  PASSWORD_MIN_LENGTH as ContractPasswordMin,
  PASSWORD_MAX_LENGTH as ContractPasswordMax,
  USERNAME_PATTERN as ContractUsernamePattern,
  MAX_DOWNLOADS_LIMIT as ContractMaxDownloads,
} from '@sfe/contract';

// The contract's constants, repeated as values so the client (and the SPA bundle)
// never loads the schema library at run time. Each annotation is the contract's own
// literal type, so any drift from @sfe/contract fails the type check.
export const API_PREFIX: typeof ContractPrefix = '/api/v1';
export const PASSWORD_MIN_LENGTH: typeof ContractPasswordMin = 12;
export const PASSWORD_MAX_LENGTH: typeof ContractPasswordMax = 1024;
export const USERNAME_PATTERN: typeof ContractUsernamePattern = '^[a-zA-Z0-9._-]{3,64}$';
export const MAX_DOWNLOADS_LIMIT: typeof ContractMaxDownloads = 1_000_000;
