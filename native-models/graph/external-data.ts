// Weights go to one side file, each tensor at a 64 KiB boundary so onnxruntime can mmap them.
import { openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { basename } from 'node:path';

export const EXTERNAL_ALIGN = 65_536;

export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

export class ExternalDataWriter {
  private fd: number;
  private offset = 0;
  readonly location: string;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
    this.location = basename(path);
  }

  /** Appends `bytes` at the next aligned offset and returns where it went. */
  append(bytes: ArrayBufferView): ExternalRef {
    const start = Math.ceil(this.offset / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    if (start > this.offset) {
      writeSync(this.fd, new Uint8Array(start - this.offset), 0, start - this.offset, this.offset);
    }
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let written = 0;
    while (written < view.byteLength) written += writeSync(this.fd, view, written, view.byteLength - written, start + written);
    this.offset = start + view.byteLength;
    return { location: this.location, offset: start, length: view.byteLength };
  }

  get size(): number {
    return this.offset;
  }

  close(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
