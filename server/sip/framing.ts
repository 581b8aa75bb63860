/**
 * Message framing on stream transports (TCP/TLS): RFC 3261 §18.3 — headers up to the empty
 * line, then exactly Content-Length body bytes. Pure; the connection feeds it chunks.
 *
 * Memory and work are bounded: a fixed buffer of `maxMessageBytes`, every byte copied once and
 * searched for the end of headers once, however the peer slices its writes.
 */
import { contentLengthOf, splitHeaders } from './message.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');

export class StreamFramer {
  private readonly buf: Buffer;
  private len = 0;
  /** Bytes of `buf` already searched for CRLFCRLF without success. */
  private scanned = 0;

  constructor(maxMessageBytes = 16 * 1024) {
    this.buf = Buffer.alloc(maxMessageBytes);
  }

  /**
   * Adds received bytes; returns the complete messages they finish, or null when the peer broke
   * framing (a message larger than the buffer, a bad Content-Length): close the connection.
   */
  push(chunk: Uint8Array): Buffer[] | null {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, this.buf.length - this.len);
      if (n === 0) return null;
      this.buf.set(chunk.subarray(offset, offset + n), this.len);
      this.len += n;
      offset += n;
      if (!this.drain(out)) return null;
    }
    return out;
  }

  private drain(out: Buffer[]): boolean {
    for (;;) {
      // Keep-alive CRLFs between messages (RFC 5626 §3.5.1) are skipped.
      let skip = 0;
      while (skip < this.len && (this.buf[skip] === 13 || this.buf[skip] === 10)) skip++;
      if (skip > 0) this.consume(skip);
      if (this.len === 0) return true;

      const view = this.buf.subarray(0, this.len);
      const headEnd = view.indexOf(CRLFCRLF, Math.max(0, this.scanned - 3));
      if (headEnd < 0) {
        this.scanned = this.len;
        return true;
      }
      this.scanned = headEnd;
      const head = view.toString('latin1', 0, headEnd);
      const eol = head.indexOf('\r\n');
      const headers = eol < 0 ? [] : splitHeaders(head.slice(eol + 2));
      // A stream message must carry Content-Length (§20.14); without one, no body is assumed.
      const length = headers === null ? null : contentLengthOf(headers);
      if (length === null) return false;
      const total = headEnd + 4 + length;
      if (total > this.buf.length) return false;
      if (this.len < total) return true;
      out.push(Buffer.from(view.subarray(0, total)));
      this.consume(total);
    }
  }

  private consume(n: number): void {
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    this.scanned = 0;
  }
}
