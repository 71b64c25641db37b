/** A one-line progress bar on a terminal (stderr), redrawn at most 10 times a second; nothing elsewhere. */
import type { ManifestProgress } from '../manifest/progress';

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): { update: (p: ManifestProgress) => void; done: () => void } {
  if (!stream.isTTY) return { update: () => {}, done: () => {} };
  let last = 0;
  let drawn = false;
  const draw = (p: ManifestProgress) => {
    const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : p.filesTotal > 0 ? p.filesDone / p.filesTotal : 1;
    const width = 30;
    const fill = Math.round(frac * width);
    const mib = (n: number) => (n / 1048576).toFixed(0);
    stream.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mib(p.bytesDone)}/${mib(p.bytesTotal)} MiB ${p.filesDone}/${p.filesTotal} files`);
    drawn = true;
  };
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < 100 && p.filesDone < p.filesTotal) return;
      last = now;
      draw(p);
    },
    done: () => {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
