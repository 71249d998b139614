// A Hugging Face checkpoint folder: config.json plus model.safetensors or sharded
// model-0000N-of-0000M.safetensors with model.safetensors.index.json.
import { existsSync, readFileSync, readdirSync, statSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SafetensorsFile, type TensorInfo } from './safetensors.ts';
import { StudioError } from '../errors.ts';

const indexSchema = z.object({ weight_map: z.record(z.string(), z.string()) });

export class Checkpoint {
  readonly tensors = new Map<string, TensorInfo>();
  private files = new Map<string, SafetensorsFile>();

  private constructor(
    readonly dir: string,
    readonly config: Record<string, unknown>,
  ) {}

  static open(dir: string): Checkpoint {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new StudioError('not-found', `${dir}: not a checkpoint folder`);
    const configPath = join(dir, 'config.json');
    if (!existsSync(configPath)) throw new StudioError('not-found', `${configPath}: missing (a Hugging Face checkpoint needs config.json)`);
    let config: unknown;
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new StudioError('format', `${configPath}: not valid JSON (${(e as Error).message})`);
    }
    if (typeof config !== 'object' || config === null) throw new StudioError('format', `${configPath}: not a JSON object`);
    const ckpt = new Checkpoint(dir, config as Record<string, unknown>);
    try {
      ckpt.openShards();
    } catch (e) {
      ckpt.close();
      throw e;
    }
    return ckpt;
  }

  private openShards(): void {
    const indexPath = join(this.dir, 'model.safetensors.index.json');
    let shardNames: string[];
    if (existsSync(indexPath)) {
      let parsed;
      try {
        parsed = indexSchema.safeParse(JSON.parse(readFileSync(indexPath, 'utf8')));
      } catch (e) {
        throw new StudioError('format', `${indexPath}: not valid JSON (${(e as Error).message})`);
      }
      if (!parsed.success) throw new StudioError('format', `${indexPath}: no weight_map object`);
      shardNames = [...new Set(Object.values(parsed.data.weight_map))];
      for (const s of shardNames) {
        if (s.includes('/') || s.includes('\\') || s.startsWith('.'))
          throw new StudioError('format', `${indexPath}: shard name ${JSON.stringify(s)} escapes the folder`);
      }
    } else if (existsSync(join(this.dir, 'model.safetensors'))) {
      shardNames = ['model.safetensors'];
    } else {
      const found = readdirSync(this.dir)
        .filter((f) => f.endsWith('.safetensors'))
        .sort();
      if (!found.length) throw new StudioError('format', `${this.dir}: no .safetensors weights found`);
      shardNames = found;
    }
    for (const s of shardNames) {
      const path = join(this.dir, s);
      if (!existsSync(path)) throw new StudioError('not-found', `${path}: missing shard`);
      const file = new SafetensorsFile(path);
      this.files.set(path, file);
      for (const [name, info] of file.tensors) this.tensors.set(name, info);
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  shape(name: string): number[] {
    const t = this.tensors.get(name);
    if (!t) throw new StudioError('format', `${this.dir}: tensor ${name} is missing`);
    return t.shape;
  }

  readFloat32(name: string): Float32Array {
    const t = this.tensors.get(name);
    if (!t) throw new StudioError('format', `${this.dir}: tensor ${name} is missing`);
    return this.files.get(t.file)!.readFloat32(name);
  }

  /** Weights in the checkpoint (a tied lm_head counted once, as it is stored once). */
  get parameterCount(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.shape.reduce((a, b) => a * b, 1);
    return n;
  }

  /** The storage dtype most tensors use (for reporting). */
  get dominantDtype(): string {
    const counts = new Map<string, number>();
    for (const t of this.tensors.values()) counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + (t.end - t.begin));
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'F32';
  }

  /** sha256 over config.json and every weight file, streamed. */
  async contentHash(): Promise<string> {
    const h = createHash('sha256');
    h.update(readFileSync(join(this.dir, 'config.json')));
    for (const path of [...this.files.keys()].sort()) {
      h.update(`\0${path.slice(this.dir.length)}\0`);
      await new Promise<void>((resolve, reject) => {
        createReadStream(path, { highWaterMark: 4 << 20 })
          .on('data', (c) => h.update(c))
          .on('end', resolve)
          .on('error', reject);
      });
    }
    return h.digest('hex');
  }

  close(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
  }
}
