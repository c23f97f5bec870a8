/**
 * Holds input chunks by reference until a whole segment is available, so
 * input is never re-concatenated chunk by chunk.
 */
export class ChunkQueue {
  #chunks: Buffer[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The next `count` bytes as views into the held chunks (no copy). */
  takePieces(count: number): Buffer[] {
    if (count > this.#length) throw new RangeError('not enough queued bytes');
    const pieces: Buffer[] = [];
    let needed = count;
    while (needed > 0) {
      const head = this.#chunks[0];
      if (head === undefined) throw new RangeError('queue underflow');
      if (head.length <= needed) {
        pieces.push(head);
        this.#chunks.shift();
        needed -= head.length;
      } else {
        pieces.push(head.subarray(0, needed));
        this.#chunks[0] = head.subarray(needed);
        needed = 0;
      }
    }
    this.#length -= count;
    return pieces;
  }

  /**
   * The next `count` bytes as one contiguous buffer: a view when they sit in
   * one chunk, otherwise copied into `scratch` (reused by the caller, which
   * must be done with the result before the next call).
   */
  takeContiguous(count: number, scratch: Buffer): Buffer {
    const head = this.#chunks[0];
    if (head !== undefined && head.length >= count) return this.takePieces(count)[0] ?? head;
    if (scratch.length < count) throw new RangeError('scratch buffer too small');
    let offset = 0;
    for (const piece of this.takePieces(count)) offset += piece.copy(scratch, offset);
    return scratch.subarray(0, count);
  }
}
