// What a plotly chart on the page shows, read from its data (the graph div keeps `data`), not from
// pixels: a heatmap's grid size, axis labels and values.
import type { Locator } from 'playwright-core';

export interface HeatmapData {
  x: (string | number)[];
  y: (string | number)[];
  z: (number | null)[][];
}

/** The first heatmap trace of the plotly chart at `chart` (a .js-plotly-plot element or inside one). */
export async function heatmapData(chart: Locator): Promise<HeatmapData | null> {
  return chart.evaluate((el) => {
    const gd = (el.closest('.js-plotly-plot') ?? el.querySelector('.js-plotly-plot')) as
      (Element & { data?: { type?: string; x?: unknown[]; y?: unknown[]; z?: unknown[][] }[] }) | null;
    const trace = gd?.data?.find((t) => t.type === 'heatmap');
    if (!trace?.z) return null;
    return { x: (trace.x ?? []) as (string | number)[], y: (trace.y ?? []) as (string | number)[], z: trace.z as (number | null)[][] };
  });
}

/** Cells drawn: rows × columns of z. */
export function cellCount(h: HeatmapData): number {
  return h.z.reduce((n, row) => n + row.length, 0);
}
