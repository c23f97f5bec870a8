import Type from 'typebox';
import { Problem } from '@sfe/contract';

/** Problem responses a route documents besides its success response. */
export const problems = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [status, Problem])) as Record<number, typeof Problem>;

export const NoContent = Type.Null({ description: 'No content' });
export const Binary = Type.String({ description: 'Decrypted file bytes', format: 'binary' });

/** A response of decrypted bytes, documented as application/octet-stream. */
export const octetStream = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: Binary } },
});

export const bearer = [{ bearerAuth: [] }];
