import type { Role } from '@sfe/contract';

/** Who is calling: what services authorize against. Never taken from the request body. */
export interface Actor {
  readonly id: string;
  readonly role: Role;
  readonly username: string;
  readonly ip: string;
  /** Refresh-token family of the session the access token came from. */
  readonly sessionFamily: string | null;
}
