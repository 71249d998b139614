// Role files for `roles run` and the baseline they are contrasted with.
//
// A roles file is JSON or JSON Lines:
//   JSON   {"format": "persona-studio/roles", "version": 1, "roles": {"chef": {"instructions": [...], "markers": [...]}}}
//          or simply {"chef": ["You are a chef.", ...], "doctor": {...}} — a role's value is its
//          instructions, or {instructions, markers?}; markers are the role's domain vocabulary,
//          used to select its direction (else the projection gain is).
//   JSONL  one {"role": "chef", "instruction": "You are a chef.", "markers"?: [...]} per line; a role's
//          lines are gathered in order, its markers joined.
// Role names: letters, digits, '.', '_', '-', at most 64. The baseline (assets/roles/baseline.json by
// default) holds generic-assistant instructions and everyday questions split into train (directions),
// validation (selection) and held-out (checks) — our own text, no copied dataset.
import fs from 'node:fs';
import { z } from 'zod';
import { FormatError } from '../formats/errors.ts';
import { readBounded } from '../formats/file-io.ts';
import { StudioError, zodIssueLine } from '../errors.ts';
import { assetPath } from '../package-root.ts';

export const ROLES_FORMAT = 'persona-studio/roles';
export const BASELINE_FORMAT = 'persona-studio/roles-baseline';
const MAX_BYTES = 16 * 1024 * 1024;

export interface RoleSpec {
  name: string;
  instructions: string[];
  markers: string[];
}

const text = z.string().trim().min(1).max(20_000);
const roleName = z.string().regex(/^[\w.-]{1,64}$/, 'a role name is 1-64 letters, digits, ".", "_" or "-"');
const roleValue = z.union([
  z.array(text).min(1),
  z.strictObject({ instructions: z.array(text).min(1), markers: z.array(text).default([]) }),
]);
const rolesRecord = z.record(roleName, roleValue).refine((r) => Object.keys(r).length > 0, 'no roles');
const rolesDoc = z.strictObject({
  format: z.literal(ROLES_FORMAT),
  version: z.literal(1),
  description: z.string().optional(),
  roles: rolesRecord,
});
const rolesLine = z.strictObject({ role: roleName, instruction: text, markers: z.array(text).optional() });

export const baselineSchema = z.strictObject({
  format: z.literal(BASELINE_FORMAT),
  version: z.literal(1),
  description: z.string().optional(),
  instructions: z.array(text).min(1),
  questions: z.strictObject({ train: z.array(text).min(1), validation: z.array(text).min(1), heldout: z.array(text).min(1) }),
});
export type RolesBaseline = z.infer<typeof baselineSchema>;

function readText(file: string, what: string): string {
  if (!fs.existsSync(file)) throw new StudioError('not-found', `${file}: no such file (expected ${what})`);
  return new TextDecoder('utf-8', { fatal: false }).decode(readBounded(file, MAX_BYTES, what));
}

export function parseRolesText(src: string, file: string): RoleSpec[] {
  const trimmed = src.trim();
  if (!trimmed) throw new FormatError(file, null, 'is empty (expected roles as JSON or JSON Lines)');
  let doc: unknown;
  let jsonl = false;
  try {
    doc = JSON.parse(trimmed);
  } catch {
    jsonl = true;
  }
  if (jsonl || (Array.isArray(doc) === false && typeof doc === 'object' && doc !== null && 'role' in doc)) {
    const roles = new Map<string, RoleSpec>();
    trimmed.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        throw new FormatError(file, null, `line ${i + 1}: not JSON (expected {"role": ..., "instruction": ...})`);
      }
      const r = rolesLine.safeParse(rec);
      if (!r.success) throw new FormatError(file, null, zodIssueLine(r.error, `line ${i + 1}`));
      const role = roles.get(r.data.role) ?? { name: r.data.role, instructions: [], markers: [] };
      role.instructions.push(r.data.instruction);
      for (const m of r.data.markers ?? []) if (!role.markers.includes(m)) role.markers.push(m);
      roles.set(role.name, role);
    });
    if (roles.size === 0) throw new FormatError(file, null, 'holds no roles');
    return [...roles.values()];
  }
  const isDoc = typeof doc === 'object' && doc !== null && 'format' in doc;
  const parsed = isDoc ? rolesDoc.safeParse(doc) : rolesRecord.safeParse(doc);
  if (!parsed.success) throw new FormatError(file, null, zodIssueLine(parsed.error, isDoc ? 'roles file' : 'roles'));
  const record = isDoc ? (parsed.data as z.infer<typeof rolesDoc>).roles : (parsed.data as z.infer<typeof rolesRecord>);
  return Object.entries(record).map(([name, v]) =>
    Array.isArray(v) ? { name, instructions: v, markers: [] } : { name, instructions: v.instructions, markers: v.markers },
  );
}

export function readRolesFile(file: string): RoleSpec[] {
  return parseRolesText(readText(file, 'a roles file'), file);
}

export const defaultBaselineFile = () => assetPath('roles', 'baseline.json');

export function readBaselineFile(file: string): RolesBaseline {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(file, 'a roles baseline'));
  } catch {
    throw new FormatError(file, null, 'is not JSON (expected a persona-studio/roles-baseline file)');
  }
  const r = baselineSchema.safeParse(doc);
  if (!r.success) throw new FormatError(file, null, zodIssueLine(r.error, 'baseline'));
  return r.data;
}
