// Small display formats shared by screens: durations (ETA), byte sizes, and the hash route's params.

/** "2 h 5 min", "3 min 20 s", "45 s", "under a second". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  const s = Math.round(ms / 1000);
  if (s < 1) return 'under a second';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** Binary units, as the catalog and the CLI print them. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/**
 * The query of the hash route: `#/compare?persona=ID&model=ID` → persona=ID, model=ID. Screens
 * link to each other with it (the first run opens Compare with its new persona preselected).
 */
export function hashParams(hash = window.location.hash): URLSearchParams {
  const q = hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
}

/** A hash route with params: screenHref('compare', { persona: id }) → '#/compare?persona=id'. */
export function screenHref(screen: string, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${screen}${q ? `?${q}` : ''}`;
}
