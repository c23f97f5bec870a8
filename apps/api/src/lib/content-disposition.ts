/**
 * `attachment` with both an ASCII fallback and the RFC 6266 / RFC 8187 `filename*`,
 * built so no byte of a hostile name can end the header or add another one.
 */
export function attachmentDisposition(filename: string): string {
  const name = filename.normalize('NFC');
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_').trim() || 'download';
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * Keeps only the last path component and drops control and bidirectional-override
 * characters (which make "exe.txt" read as "txt.exe"); never empty.
 */
export function sanitizeFilename(raw: string | undefined): string {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, 255);
  return clean === '' || clean === '.' || clean === '..' ? 'file' : clean;
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** A media type we are willing to echo back in Content-Type; anything else is opaque bytes. */
export function sanitizeContentType(raw: string | undefined): string {
  const type = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MEDIA_TYPE.test(type) ? type : 'application/octet-stream';
}

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range. Returns null when the
 * header should be ignored (absent, another unit, several ranges, b < a) and 'unsatisfiable'
 * when it cannot be served (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return null;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  // bytes=5-4 is not a valid range at all: RFC 9110 14.2 says ignore it (200, whole file).
  if (last !== '' && Number(last) < start) return null;
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  return { start, end };
}
