/**
 * Durable JSON snapshots of the emulator's state: each write goes to a temp file that is fsynced
 * and renamed over the data file (then the directory is fsynced), so a crash leaves either the old
 * or the new file, never a torn one. Writes are group-committed: every acknowledged change waits
 * for a snapshot that includes it, and changes made while a snapshot is being written share the
 * next one.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

const tempName = (file: string) => Path.join(Path.dirname(file), `.${Path.basename(file)}.${process.pid}.tmp`)

const syncDir = (dir: string) => {
  try {
    const fd = Fs.openSync(dir, "r")
    try {
      Fs.fsyncSync(fd)
    } finally {
      Fs.closeSync(fd)
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename itself is still atomic.
  }
}

/** Writes `text` to `file` atomically and durably, synchronously. */
export const writeAtomicallySync = (file: string, text: string): void => {
  Fs.mkdirSync(Path.dirname(file), { recursive: true })
  const tmp = tempName(file)
  const fd = Fs.openSync(tmp, "w")
  try {
    Fs.writeSync(fd, text)
    Fs.fsyncSync(fd)
  } finally {
    Fs.closeSync(fd)
  }
  Fs.renameSync(tmp, file)
  syncDir(Path.dirname(file))
}

/** Writes `text` to `file` atomically and durably, without blocking the event loop. */
export const writeAtomically = async (file: string, text: string): Promise<void> => {
  await Fs.promises.mkdir(Path.dirname(file), { recursive: true })
  const tmp = tempName(file)
  const handle = await Fs.promises.open(tmp, "w")
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await Fs.promises.rename(tmp, file)
  syncDir(Path.dirname(file))
}

/** Group-committed snapshots of a changing state. */
export class Persister {
  private flushed: number
  private waiting: Array<{ revision: number; resolve: () => void; reject: (error: unknown) => void }> = []
  private running = false

  constructor(
    private readonly file: string,
    private readonly state: { readonly revision: number; readonly text: () => string }
  ) {
    this.flushed = state.revision
  }

  /** Resolves once a snapshot including `revision` is durable on disk. */
  durable(revision: number = this.state.revision): Promise<void> {
    if (revision <= this.flushed) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.waiting.push({ revision, resolve, reject })
      if (!this.running) void this.run()
    })
  }

  private async run() {
    this.running = true
    try {
      while (this.waiting.length > 0) {
        const revision = this.state.revision
        try {
          await writeAtomically(this.file, this.state.text())
          this.flushed = revision
          const done = this.waiting.filter((w) => w.revision <= revision)
          this.waiting = this.waiting.filter((w) => w.revision > revision)
          for (const w of done) w.resolve()
        } catch (error) {
          const failed = this.waiting
          this.waiting = []
          for (const w of failed) w.reject(error)
        }
      }
    } finally {
      this.running = false
    }
  }
}
