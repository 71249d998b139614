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
