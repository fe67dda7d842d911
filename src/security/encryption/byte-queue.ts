/** A FIFO of buffers that hands out exact-length pieces without re-concatenating what it holds. */
export class ByteQueue {
  private readonly parts: Buffer[] = [];
  private head = 0; // bytes of parts[0] already taken
  private total = 0;

  /** How many bytes the queue holds. */
  get length(): number {
    return this.total;
  }

  push(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(bytes);
    this.total += bytes.length;
  }

  /** The first `n` bytes without removing them (`n` at most {@link length}). */
  peek(n: number): Buffer {
    return this.read(n, false);
  }

  /** Removes and returns the first `n` bytes (`n` at most {@link length}). */
  take(n: number): Buffer {
    return this.read(n, true);
  }

  /** Removes and returns everything. */
  takeAll(): Buffer {
    return this.take(this.total);
  }

  private read(n: number, consume: boolean): Buffer {
    if (n > this.total) throw new RangeError(`asked for ${n} bytes of ${this.total}`);
    const first = this.parts[0];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    if (first.length - this.head >= n) {
      const piece = first.subarray(this.head, this.head + n);
      if (consume) this.advance(n);
      return piece;
    }
    const out = Buffer.allocUnsafe(n);
    let copied = 0;
    let head = this.head;
    for (const part of this.parts) {
      const count = Math.min(part.length - head, n - copied);
      part.copy(out, copied, head, head + count);
      copied += count;
      head = 0;
      if (copied === n) break;
    }
    if (consume) this.advance(n);
    return out;
  }

  private advance(n: number): void {
    this.total -= n;
    let left = n;
    while (left > 0) {
      const first = this.parts[0];
      if (first === undefined) break;
      const available = first.length - this.head;
      if (available > left) {
        this.head += left;
        return;
      }
      left -= available;
      this.parts.shift();
      this.head = 0;
    }
  }
}
