// The progress of one long call: stage, done/total, ETA and a Cancel button; or, once it ended, why
// it stopped (cancelled, or the error in one line).
import { Alert, Button, Group, Progress as Bar, Stack, Text } from '@mantine/core';
import { formatEta, type RunState } from './run.ts';

export function RunProgress({
  state,
  onCancel,
  label,
  cancelledNote,
}: {
  state: RunState;
  onCancel(): void;
  label: string;
  cancelledNote?: string;
}) {
  const p = state.progress;
  if (state.running) {
    const pct = p && p.total > 0 ? (100 * p.done) / p.total : 0;
    return (
      <Stack gap={4} role="status" aria-label={`${label} progress`}>
        <Bar value={pct} animated={!p} aria-label={`${label}: ${Math.round(pct)} percent`} />
        <Group justify="space-between" wrap="nowrap">
          <Text size="sm" c="dimmed">
            {p ? `${p.stage} ${p.done}/${p.total} · ${formatEta(state.etaMs)}` : 'starting…'}
          </Text>
          <Button size="xs" variant="default" onClick={onCancel} aria-label={`Cancel ${label.toLowerCase()}`}>
            Cancel
          </Button>
        </Group>
      </Stack>
    );
  }
  if (state.cancelled)
    return (
      <Alert color="yellow" title={`${label} cancelled`}>
        {cancelledNote ?? 'Nothing was saved.'}
      </Alert>
    );
  if (state.error)
    return (
      <Alert color="red" title={`${label} failed`} role="alert">
        {state.error}
      </Alert>
    );
  return null;
}
