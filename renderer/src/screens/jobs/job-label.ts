// What a job is, in words, from its operation and recorded params (the Jobs screen's rows and the
// accessible names of their buttons).
import type { AppResult } from '../../../../preload/contract.ts';

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

export const STATUS_COLORS: Record<JobView['status'], string> = {
  queued: 'dimmed',
  running: 'blue',
  paused: 'yellow',
  succeeded: 'green',
  failed: 'red',
  cancelled: 'dimmed',
};
