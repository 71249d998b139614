// A one-line progress bar with an ETA on stderr (only when stderr is a terminal; plain lines otherwise).
export function progressPrinter(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): (done: number, total: number, note?: string) => void {
  const start = Date.now();
  let lastLine = '';
  return (done, total, note = '') => {
    const frac = total > 0 ? done / total : 0;
    const elapsed = (Date.now() - start) / 1000;
    const eta = frac > 0 && frac < 1 ? ` ETA ${Math.ceil((elapsed / frac) * (1 - frac))}s` : '';
    const line = `${label} ${Math.round(frac * 100)}%${eta}${note ? ` ${note}` : ''}`;
    if (line === lastLine) return;
    lastLine = line;
    if (stream.isTTY) stream.write(`\r${line}\x1b[K${frac >= 1 ? '\n' : ''}`);
    else if (frac >= 1 || done === 0) stream.write(`${line}\n`);
  };
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/** Download progress on stderr: bytes, speed and ETA (from the downloader's sliding-window speed). */
export function downloadPrinter(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
): (p: { file: string; bytesDone: number; bytesTotal: number; bytesPerSecond: number; etaSeconds: number | null }) => void {
  let lastLine = '';
  let lastPlain = -1;
  return (p) => {
    const frac = p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 1;
    const speed = p.bytesPerSecond > 0 ? ` ${mib(p.bytesPerSecond)}/s` : '';
    const eta = p.etaSeconds !== null && frac < 1 ? ` ETA ${Math.ceil(p.etaSeconds)}s` : '';
    const line = `${label} ${Math.floor(frac * 100)}% ${mib(p.bytesDone)} of ${mib(p.bytesTotal)}${speed}${eta} ${p.file}`;
    if (line === lastLine) return;
    lastLine = line;
    if (stream.isTTY) stream.write(`\r${line}\x1b[K${frac >= 1 ? '\n' : ''}`);
    else {
      // Plain output (a log file): a line per tenth, not per chunk.
      const tenth = Math.floor(frac * 10);
      if (tenth !== lastPlain) stream.write(`${line}\n`);
      lastPlain = tenth;
    }
  };
}
