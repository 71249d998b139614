// Jobs: every long call (training, compiling, downloads, sweeps) with its progress, ETA and status;
// cancel a running one, resume one that stopped (cancelled, failed, or interrupted by a restart —
// it continues from its checkpoint).
import { Alert, Button, Group, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useStudio } from '../../studio.tsx';
import { TEXT } from '../../colors.ts';
import { formatDuration } from '../../format.ts';
import { jobLabel, STATUS_COLORS, type JobView } from './job-label.ts';
import { useJobs } from './use-jobs.ts';

export function JobsScreen() {
  const { api } = useStudio();
  const { jobs, error } = useJobs();
  const [actionError, setActionError] = useState<string | null>(null);
  const act = (p: Promise<unknown>) => {
    setActionError(null);
    p.catch((e: unknown) => setActionError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <Stack>
      <Title order={2}>Jobs</Title>
      {error && (
        <Alert color="red" title="Jobs are not available">
          {error}
        </Alert>
      )}
      {actionError && (
        <Alert color="red" withCloseButton onClose={() => setActionError(null)} title="The job did not finish">
          {actionError}
        </Alert>
      )}
      {jobs && jobs.length === 0 && (
        <Text>
          No jobs yet. Long work — compiling or downloading a model, training a persona, sweeping layers — shows up here with its progress,
          and can be cancelled and resumed.
        </Text>
      )}
      {jobs && jobs.length > 0 && (
        <Table aria-label="Jobs" verticalSpacing="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Job</Table.Th>
              <Table.Th style={{ minWidth: 120 }}>Status</Table.Th>
              <Table.Th w="30%">Progress</Table.Th>
              <Table.Th>Time left</Table.Th>
              <Table.Th>Started</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {jobs.map((job) => (
              <JobRow
                key={job.id}
                job={job}
                onCancel={() => act(api['jobs.cancel']({ id: job.id }))}
                onResume={() =>
                  act(
                    api['jobs.resume']({ id: job.id }).then((j) => j.status === 'failed' && Promise.reject(new Error(j.error ?? 'failed'))),
                  )
                }
              />
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

function JobRow({ job, onCancel, onResume }: { job: JobView; onCancel(): void; onResume(): void }) {
  const label = jobLabel(job);
  const status = job.interrupted ? 'interrupted' : job.status;
  const pct = Math.round(job.progress * 100);
  return (
    <Table.Tr data-job-id={job.id} data-status={status}>
      <Table.Td>
        <Text fw={500}>{label}</Text>
        {job.error && (
          <Text size="sm" c={TEXT.error}>
            {job.error}
          </Text>
        )}
      </Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>
        <Text c={STATUS_COLORS[job.interrupted ? 'interrupted' : job.status]} fw={600} size="sm">
          {status}
        </Text>
      </Table.Td>
      <Table.Td>
        <Progress value={pct} aria-label={`Progress of ${label}`} animated={job.status === 'running'} />
        <Text size="xs" c="dimmed">
          {job.status === 'succeeded' || !job.stage ? job.message : `${job.stage} ${job.done}/${job.total}`}
          {job.runs > 1 ? ` · run ${job.runs}` : ''}
        </Text>
      </Table.Td>
      <Table.Td>{job.status === 'running' ? (job.etaMs === null ? 'estimating…' : formatDuration(job.etaMs)) : '—'}</Table.Td>
      <Table.Td>
        <Text size="sm">{new Date(job.createdAt).toLocaleString()}</Text>
      </Table.Td>
      <Table.Td>
        <Group gap="xs">
          {(job.live || job.status === 'paused' || job.status === 'queued') && (
            <Button size="xs" variant="default" onClick={onCancel} aria-label={`Cancel ${label}`}>
              Cancel
            </Button>
          )}
          {job.resumable && (
            <Button size="xs" onClick={onResume} aria-label={`Resume ${label}`}>
              Resume
            </Button>
          )}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}
