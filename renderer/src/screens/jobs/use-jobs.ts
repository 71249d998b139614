// Every job, live: one `jobs.watch` stream per mounted screen (a snapshot, then each change), so a
// job started elsewhere (another window, the Welcome screen, a resume) shows its progress here too.
// The stream ends when the screen unmounts.
import { useEffect, useState } from 'react';
import { useStudio } from '../../studio.tsx';
import type { JobView } from './job-label.ts';

export function useJobs(): { jobs: JobView[] | null; error: string | null } {
  const { api } = useStudio();
  const [jobs, setJobs] = useState<JobView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const ac = new AbortController();
    api['jobs.watch'](
      {},
      {
        signal: ac.signal,
        on: {
          snapshot: (s) => setJobs(s.jobs),
          job: (job) =>
            setJobs((cur) => {
              const list = cur ?? [];
              return list.some((j) => j.id === job.id) ? list.map((j) => (j.id === job.id ? job : j)) : [job, ...list];
            }),
        },
      },
    ).catch((e: unknown) => {
      if (!ac.signal.aborted) setError(e instanceof Error ? e.message : String(e));
    });
    return () => ac.abort();
  }, [api]);
  return { jobs, error };
}
