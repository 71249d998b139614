// The live trait meter: each generated token's projection on the first persona's direction (the
// engine streams it with the token), divided by that layer's typical residual norm so readings
// compare across layers and models. A bar for the latest token and the reply's mean, and a sparkline.
import { Group, Stack, Text } from '@mantine/core';

export interface Meter {
  persona: string;
  layer: number;
  /** The layer's typical residual norm, or null in raw mode (then the projection is shown as is). */
  scale: number | null;
}

/** Readings shown on a ±FULL scale (a share of the residual norm: α 1 at a layer adds about 1). */
const FULL = 2;

export function TraitMeter({ meter, projections, personaName }: { meter: Meter; projections: number[]; personaName: string }) {
  const k = meter.scale ?? 1;
  const values = projections.map((p) => p / k);
  const last = values[values.length - 1] ?? 0;
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  const clamp = (x: number) => Math.max(-1, Math.min(1, x / FULL));
  const W = 240;
  const H = 36;
  const points = values.map((v, i) => `${values.length > 1 ? (i / (values.length - 1)) * W : 0},${H / 2 - (clamp(v) * H) / 2}`).join(' ');
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500} id="trait-meter-label">
        Trait meter: {personaName} at layer {meter.layer} (per token)
      </Text>
      <Group gap="xs" wrap="nowrap">
        <div
          role="meter"
          aria-labelledby="trait-meter-label"
          aria-valuemin={-FULL}
          aria-valuemax={FULL}
          aria-valuenow={Number(mean.toFixed(4))}
          aria-valuetext={`mean ${mean.toFixed(3)}, latest ${last.toFixed(3)} over ${values.length} tokens`}
          style={{ position: 'relative', width: W, height: 12, borderRadius: 6, background: 'var(--mantine-color-default-border)' }}
        >
          <div
            style={{
              position: 'absolute',
              top: 0,
              bottom: 0,
              left: `${50 + Math.min(0, clamp(mean)) * 50}%`,
              width: `${Math.abs(clamp(mean)) * 50}%`,
              borderRadius: 6,
              background: 'var(--mantine-primary-color-filled)',
            }}
          />
          <div
            style={{
              position: 'absolute',
              top: -2,
              bottom: -2,
              left: `${50 + clamp(last) * 50}%`,
              width: 2,
              background: 'var(--mantine-color-text)',
            }}
          />
          <div style={{ position: 'absolute', top: -3, bottom: -3, left: '50%', width: 1, background: 'var(--mantine-color-dimmed)' }} />
        </div>
        <Text size="xs" c="dimmed">
          mean {mean >= 0 ? '+' : ''}
          {mean.toFixed(3)} · {values.length} tokens
        </Text>
      </Group>
      {values.length > 1 && (
        <svg width={W} height={H} aria-hidden="true" style={{ overflow: 'visible' }}>
          <line x1={0} x2={W} y1={H / 2} y2={H / 2} stroke="var(--mantine-color-dimmed)" strokeDasharray="2 3" />
          <polyline points={points} fill="none" stroke="var(--mantine-primary-color-filled)" strokeWidth={1.5} />
        </svg>
      )}
      <Text size="xs" c="dimmed">
        {meter.scale === null ? 'raw projection' : 'projection as a share of the layer’s typical residual norm'}; the bar shows the reply’s
        mean, the tick the latest token.
      </Text>
    </Stack>
  );
}
