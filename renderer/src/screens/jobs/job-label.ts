// What a job is, in words, from its operation and recorded params (the Jobs screen's rows and the
// accessible names of their buttons).
import type { AppResult } from '../../../../preload/contract.ts';
import { TEXT } from '../../colors.ts';

export type JobView = AppResult<'jobs.list'>[number];

export function jobLabel(job: JobView): string {
  const p = (job.params ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : '');
  switch (job.kind) {
    case 'personas.train':
      return `Train persona ${str('name')}`;
    case 'models.compile':
      return `Compile ${str('checkpointDir').split(/[\\/]/).filter(Boolean).pop() ?? 'model'}`;
    case 'models.download':
      return `Download ${str('repo')}`;
    default:
      return job.kind;
  }
}

/** A colour per status (and interrupted). */
export const STATUS_COLORS: Record<JobView['status'] | 'interrupted', string> = {
  queued: TEXT.muted,
  running: TEXT.info,
  paused: TEXT.warning,
  interrupted: TEXT.warning,
  succeeded: TEXT.success,
  failed: TEXT.error,
  cancelled: TEXT.muted,
};
