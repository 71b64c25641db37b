/** Progress of a create or verify run: bytes and files done of the totals known at the start. */
export interface ManifestProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export type ProgressListener = (p: ManifestProgress) => void;

export class ProgressCounter {
  private readonly p: ManifestProgress;
  constructor(bytesTotal: number, filesTotal: number, private readonly listener?: ProgressListener) {
    this.p = { bytesDone: 0, bytesTotal, filesDone: 0, filesTotal };
  }
  bytes = (n: number): void => {
    this.p.bytesDone += n;
    this.listener?.({ ...this.p });
  };
  file(): void {
    this.p.filesDone++;
    this.listener?.({ ...this.p });
  }
}
