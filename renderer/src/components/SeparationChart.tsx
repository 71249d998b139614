// How well each layer's direction separates the two sides (held-out when there is a split): AUC as
// bars (0.5 is chance), Cohen's d as a line on its own scale. A small SVG drawn in the text colour,
// so light and dark both work; the numbers are in a table below for screen readers and copying.
import { Group, Stack, Table, Text } from '@mantine/core';

export interface LayerSeparation {
  layer: number;
  auc: number | null;
  cohenD: number | null;
}

const W = 640;
const H = 200;
const PAD = { l: 36, r: 40, t: 10, b: 28 };

export function SeparationChart({ layers, title }: { layers: LayerSeparation[]; title: string }) {
  if (layers.length === 0) return <Text c="dimmed">No separation figures for this vector (imported or derived vectors have none).</Text>;
  const n = layers.length;
  const bw = (W - PAD.l - PAD.r) / n;
  const y = (v: number) => PAD.t + (1 - v) * (H - PAD.t - PAD.b);
  const dMax = Math.max(1, ...layers.map((l) => Math.abs(l.cohenD ?? 0)));
  const yd = (d: number) => PAD.t + (1 - Math.max(0, d) / dMax) * (H - PAD.t - PAD.b);
  const best = layers.reduce((a, b) => ((b.cohenD ?? -Infinity) > (a.cohenD ?? -Infinity) ? b : a));
  const summary = `${title}: best layer ${best.layer} (AUC ${best.auc?.toFixed(2) ?? '–'}, d ${best.cohenD?.toFixed(2) ?? '–'})`;
  const dPoints = layers
    .map((l, i) => (l.cohenD === null ? null : `${PAD.l + (i + 0.5) * bw},${yd(l.cohenD)}`))
    .filter(Boolean)
    .join(' ');
  return (
    <Stack gap="xs">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        style={{ maxWidth: W, color: 'var(--mantine-color-text)' }}
        role="img"
        aria-label={summary}
      >
        {[0, 0.5, 1].map((v) => (
          <g key={v}>
            <line
              x1={PAD.l}
              x2={W - PAD.r}
              y1={y(v)}
              y2={y(v)}
              stroke="currentColor"
              strokeOpacity={v === 0.5 ? 0.5 : 0.15}
              strokeDasharray={v === 0.5 ? '4 3' : undefined}
            />
            <text x={PAD.l - 6} y={y(v) + 4} fontSize={11} textAnchor="end" fill="currentColor">
              {v}
            </text>
          </g>
        ))}
        <text x={W - PAD.r + 6} y={yd(dMax) + 4} fontSize={11} fill="var(--mantine-color-orange-6)">
          d {dMax.toFixed(1)}
        </text>
        {layers.map((l, i) => (
          <g key={l.layer}>
            {l.auc !== null && (
              <rect
                x={PAD.l + i * bw + bw * 0.2}
                width={bw * 0.6}
                y={y(l.auc)}
                height={Math.max(0, y(0) - y(l.auc))}
                fill="var(--mantine-color-violet-5)"
                fillOpacity={0.75}
              >
                <title>{`layer ${l.layer}: AUC ${l.auc.toFixed(3)}`}</title>
              </rect>
            )}
            <text x={PAD.l + (i + 0.5) * bw} y={H - 10} fontSize={11} textAnchor="middle" fill="currentColor">
              {l.layer}
            </text>
          </g>
        ))}
        {dPoints && <polyline points={dPoints} fill="none" stroke="var(--mantine-color-orange-6)" strokeWidth={2} />}
      </svg>
      <Group gap="md">
        <Text size="xs">
          <span style={{ color: 'var(--mantine-color-violet-5)' }}>■</span> AUC (0.5 = chance)
        </Text>
        <Text size="xs">
          <span style={{ color: 'var(--mantine-color-orange-6)' }}>━</span> Cohen&apos;s d
        </Text>
        <Text size="xs" c="dimmed">
          {summary}
        </Text>
      </Group>
      <details>
        <summary>
          <Text span size="sm">
            Figures by layer
          </Text>
        </summary>
        <Table aria-label={`${title} by layer`} withTableBorder>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Layer</Table.Th>
              <Table.Th>AUC</Table.Th>
              <Table.Th>Cohen&apos;s d</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {layers.map((l) => (
              <Table.Tr key={l.layer}>
                <Table.Td>{l.layer}</Table.Td>
                <Table.Td>{l.auc?.toFixed(3) ?? '–'}</Table.Td>
                <Table.Td>{l.cohenD?.toFixed(2) ?? '–'}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </details>
    </Stack>
  );
}
