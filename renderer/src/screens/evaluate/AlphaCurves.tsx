// An evaluation's α curves at its steered layer: one metric over α (0 is the unsteered column),
// drawn by plotly.js, loaded on first use (a dynamic import, so its ~4.5 MB stay out of the first
// screen's bundle) — the same loading as the sweep's heatmap.
import { Loader, useComputedColorScheme } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';

type PlotlyModule = typeof import('plotly.js-dist-min');

export interface AlphaCurvesProps {
  /** α per point, ascending; 0 stands for the unsteered model. */
  alphas: number[];
  /** The metric per point; null where it has no value. */
  values: (number | null)[];
  metricLabel: string;
  layer: number;
  /** Log scale (perplexity). */
  log: boolean;
}

export function AlphaCurves({ alphas, values, metricLabel, layer, log }: AlphaCurvesProps) {
  const el = useRef<HTMLDivElement>(null);
  const [plotly, setPlotly] = useState<PlotlyModule | null>(null);
  const [error, setError] = useState<string | null>(null);
  const dark = useComputedColorScheme('light') === 'dark';
  useEffect(() => {
    import('plotly.js-dist-min').then(
      (m) => setPlotly(((m as { default?: PlotlyModule }).default ?? m) as PlotlyModule),
      (e: unknown) => setError(String(e)),
    );
  }, []);
  useEffect(() => {
    const div = el.current;
    if (!plotly || !div) return;
    const fg = dark ? '#c9c9c9' : '#333';
    void plotly.react(
      div,
      [
        {
          type: 'scatter',
          mode: 'lines+markers',
          x: alphas,
          y: values,
          name: `layer ${layer}`,
          hovertemplate: `α %{x}: %{y:.4f}<extra></extra>`,
        },
      ],
      {
        margin: { l: 70, r: 20, t: 10, b: 50 },
        paper_bgcolor: 'rgba(0,0,0,0)',
        plot_bgcolor: 'rgba(0,0,0,0)',
        font: { color: fg },
        xaxis: { title: { text: 'α (0: unsteered)' } },
        yaxis: { title: { text: metricLabel }, type: log ? 'log' : 'linear' },
      },
      { displaylogo: false, responsive: true },
    );
  }, [plotly, alphas, values, metricLabel, layer, log, dark]);
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
      <div
        ref={el}
        // A figure, not an img: plotly's mode bar inside it has buttons (an img may hold no controls).
        role="figure"
        aria-label={`${metricLabel} over α at layer ${layer}: ${alphas.map((a, i) => `α ${a} ${values[i]?.toFixed(3) ?? 'none'}`).join(', ')}`}
        style={{ width: '100%', height: 300 }}
      />
    </div>
  );
}
