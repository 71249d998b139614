// The layer × α heatmap of one metric, drawn by plotly.js, which is loaded on first use (a dynamic
// import: its ~4.5 MB stay out of the first screen's bundle). Clicking a cell selects it; the
// recommended cell carries a star and the selected one a ring.
import { Loader, useComputedColorScheme } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';

export interface HeatmapProps {
  layers: number[];
  alphas: number[];
  /** z[layer index][α index]; null where the metric has no value. */
  z: (number | null)[][];
  metricLabel: string;
  recommended: { layer: number; alpha: number } | null;
  selected: { layer: number; alpha: number } | null;
  onSelect(cell: { layer: number; alpha: number }): void;
}

type PlotlyModule = typeof import('plotly.js-dist-min');

export function SweepHeatmap(p: HeatmapProps) {
  const el = useRef<HTMLDivElement>(null);
  const [plotly, setPlotly] = useState<PlotlyModule | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dark = useComputedColorScheme('light') === 'dark';
  const onSelect = useRef(p.onSelect);
  useEffect(() => {
    onSelect.current = p.onSelect;
  });
  useEffect(() => {
    import('plotly.js-dist-min').then(
      (m) => setPlotly(((m as { default?: PlotlyModule }).default ?? m) as PlotlyModule),
      (e: unknown) => setError(String(e)),
    );
  }, []);
  const { layers, alphas, z, metricLabel, recommended, selected } = p;
  useEffect(() => {
    const div = el.current;
    if (!plotly || !div) return;
    const x = alphas.map((a) => `α ${a}`);
    const y = layers.map((l) => `layer ${l}`);
    const mark = (c: { layer: number; alpha: number } | null, text: string, size: number) =>
      c && layers.includes(c.layer) && alphas.includes(c.alpha)
        ? [{ x: `α ${c.alpha}`, y: `layer ${c.layer}`, text, showarrow: false, font: { size, color: dark ? '#fff' : '#000' } }]
        : [];
    const fg = dark ? '#c9c9c9' : '#333';
    void plotly.react(
      div,
      [
        {
          type: 'heatmap',
          x,
          y,
          z,
          colorscale: 'Viridis',
          hovertemplate: `%{y}, %{x}: ${metricLabel} %{z:.3f}<extra></extra>`,
          colorbar: { title: { text: metricLabel }, tickfont: { color: fg } },
        },
      ],
      {
        margin: { l: 70, r: 20, t: 10, b: 50 },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
        font: { color: fg },
        xaxis: { type: 'category', title: { text: 'α' } },
        yaxis: { type: 'category', title: { text: 'layer' } },
        annotations: [
          ...mark(recommended, '★', 20),
          ...(selected && !(recommended && selected.layer === recommended.layer && selected.alpha === recommended.alpha)
            ? mark(selected, '◯', 26)
            : []),
        ],
      },
      { displaylogo: false, responsive: true },
    );
    const clicked = (ev: { points: { pointIndex?: number[] | number; x?: unknown; y?: unknown }[] }) => {
      const pt = ev.points[0];
      if (!pt) return;
      const alpha = alphas[x.indexOf(String(pt.x))];
      const layer = layers[y.indexOf(String(pt.y))];
      if (alpha !== undefined && layer !== undefined) onSelect.current({ layer, alpha });
    };
    const plotDiv = div as unknown as { on?(ev: string, f: typeof clicked): void; removeAllListeners?(ev: string): void };
    plotDiv.removeAllListeners?.('plotly_click');
    plotDiv.on?.('plotly_click', clicked);
  }, [plotly, layers, alphas, z, metricLabel, recommended, selected, dark]);
  useEffect(() => {
    const div = el.current;
    return () => {
      if (div && plotly) plotly.purge(div);
    };
  }, [plotly]);
  if (error) return <div role="alert">The chart library failed to load: {error}</div>;
  return (
    <div style={{ position: 'relative' }}>
      {!plotly && <Loader size="sm" aria-label="Loading the chart" />}
      {/* A figure, not an img: plotly puts focusable controls (the mode bar) inside, and an img's
          content is presentational (axe: nested-interactive). */}
      <div
        ref={el}
        role="figure"
        aria-label={`Heatmap of ${metricLabel} by layer and α; pick a cell with the Cell list or by clicking`}
        style={{ width: '100%', height: Math.max(260, 40 * layers.length + 80) }}
      />
    </div>
  );
}
