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

/** The chart's text annotations (a marked cell: its text and the x/y categories it sits on). */
export async function annotations(chart: Locator): Promise<{ text: string; x: string; y: string }[]> {
  return chart.evaluate((el) => {
    const gd = (el.closest('.js-plotly-plot') ?? el.querySelector('.js-plotly-plot')) as
      (Element & { layout?: { annotations?: { text?: unknown; x?: unknown; y?: unknown }[] } }) | null;
    return (gd?.layout?.annotations ?? []).map((a) => ({ text: String(a.text), x: String(a.x), y: String(a.y) }));
  });
}

/**
 * Where in the viewport (scrolled into it) the centre of a heatmap cell is drawn, for a click: the plot area (plotly's
 * drag layer) divided evenly among the category axes' cells, rows from the bottom (plotly draws the
 * first y category lowest).
 */
export async function heatmapCellCenter(chart: Locator, row: number, col: number): Promise<{ x: number; y: number }> {
  const h = await heatmapData(chart);
  if (!h) throw new Error('no heatmap in the chart');
  const drag = chart.locator('.nsewdrag').first();
  await drag.scrollIntoViewIfNeeded(); // the mouse reaches only what is in the viewport
  const area = await drag.boundingBox();
  if (!area) throw new Error('the heatmap has no plot area on screen');
  const cols = h.x.length;
  const rows = h.y.length;
  return { x: area.x + ((col + 0.5) * area.width) / cols, y: area.y + area.height - ((row + 0.5) * area.height) / rows };
}
