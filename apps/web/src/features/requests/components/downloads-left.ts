import type { AccessRequest } from '@sfe/contract';

export function downloadsLeft(request: AccessRequest): string {
  if (request.status !== 'approved') return '—';
  return request.downloadsRemaining === null ? 'Unlimited' : String(request.downloadsRemaining);
}
