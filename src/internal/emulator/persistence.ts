/**
 * The emulator's data file: a snapshot plus an append-only journal, so that a write costs what it
 * changes, not the size of the state.
 *
 * Files, for `--data state.json`:
 * - `state.json`: a snapshot, `{ "format": "promptlayer-emulator-data/2", "generation": G, "state": Snapshot }`
 *   (a bare `promptlayer-emulator/1` snapshot, as earlier versions wrote, loads as generation 0);
 * - `state.json.journal.N` (N ≥ G): one JSON line per committed batch of changes
 *   ({@link JournalChange}s), replayed in order on top of the snapshot. A torn last line (a crash
 *   in the middle of an append) is ignored: its batch was never acknowledged.
 *
 * Writes are group-committed: changes made while a batch is being appended and fdatasync'd share
 * the next batch; {@link DataFile.durable} resolves once every change made so far is on disk. If a
 * batch cannot be made durable, every change not yet durable is undone in memory (the callers get
 * the error), so memory never runs ahead of the file and a retry cannot duplicate; if the journal
 * cannot even be cut back to its last good line, the data file refuses every further write.
 *
 * Compaction, once the journal outgrows the snapshot: a new journal generation starts at a batch
 * boundary, the state is written in small slices (no long event-loop stall) to a temp file with a
 * random name opened `O_CREAT | O_EXCL | O_NOFOLLOW`, fsynced and renamed over the snapshot, and
 * older journals are deleted. A crash at any point leaves a loadable set of files.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Schema from "effect/Schema"
import { hasBigInt, parseExact, withoutBigInts } from "./exactJson.js"
import { checkChange } from "./snapshotValidation.js"
import type { JournalChange, Snapshot, Store, Undo } from "./store.js"

/** The format tag of snapshot files written by this version. */
export const DATA_FORMAT = "promptlayer-emulator-data/2"

/** Low-level writes, replaceable in tests to inject failures. */
export interface JournalIo {
  /** Writes all of `data` at the end of the journal `fd`. */
  readonly append: (fd: number, data: Buffer) => Promise<void>
  /** Makes the journal's data durable (fdatasync). */
  readonly sync: (fd: number) => Promise<void>
}

/** Options of {@link DataFile.open}. */
export interface DataFileOptions {
  /**
   * Compact once the journals hold more than this many bytes and more than the last snapshot;
   * default 8 MiB.
   */
  readonly compactAfterBytes?: number | undefined
  /** Time slice of snapshot writing before yielding to the event loop; default 4 ms. */
  readonly sliceMs?: number | undefined
  readonly io?: JournalIo | undefined
  /** The random part of temp file names (16 hex digits); default `crypto.randomBytes(8)`. For tests. */
  readonly tempSuffix?: (() => string) | undefined
}

/** A write of the data file failed; the changes it carried were undone. */
export class DataFileWriteError extends Schema.TaggedError<DataFileWriteError>()("DataFileWriteError", {
  file: Schema.String,
  message: Schema.String
}) {}

const appendAll = (fd: number, data: Buffer): Promise<void> =>
  new Promise((resolve, reject) => {
    const step = (offset: number) =>
      Fs.write(fd, data, offset, data.length - offset, null, (error, written) => {
        if (error) reject(error)
        else if (offset + written < data.length) step(offset + written)
        else resolve()
      })
    step(0)
  })

/** The journal's real I/O: append every byte, then fdatasync. */
export const defaultIo: JournalIo = {
  append: appendAll,
  sync: (fd) => new Promise((resolve, reject) => Fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())))
}

const syncDir = (dir: string) => {
  try {
    const fd = Fs.openSync(dir, "r")
    try {
      Fs.fsyncSync(fd)
    } finally {
      Fs.closeSync(fd)
    }
  } catch {
    // Some file systems cannot fsync a directory; renames and creations are still atomic.
  }
}

/**
 * {@link syncDir} off the event loop: a directory fsync on ext4 waits for a journal commit, which
 * under write load takes tens of milliseconds.
 */
const syncDirAsync = async (dir: string): Promise<void> => {
  try {
    const handle = await Fs.promises.open(dir, "r")
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // As in syncDir.
  }
}

/** Snapshot bytes written per slice at most (a larger entity is written alone). */
const SLICE_BYTES = 512 * 1024

/** A compaction flushes its temp file every this many bytes. */
const SYNC_EVERY_BYTES = 4 * 1024 * 1024

const JOURNAL_FLAGS = Fs.constants.O_WRONLY | Fs.constants.O_APPEND | Fs.constants.O_CREAT | Fs.constants.O_NOFOLLOW

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Temp files of ours: `.state.json.<16 hex>.tmp`, and `.state.json.<pid>.tmp` of earlier versions. */
const tempPattern = (base: string) => new RegExp(`^\\.${escapeRegExp(base)}\\.(?:[0-9a-f]{16}|\\d+)\\.tmp$`)

const journalPattern = (base: string) => new RegExp(`^${escapeRegExp(base)}\\.journal\\.(\\d+)$`)

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

interface Deferred {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

const deferred = (): Deferred => {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {}) // rejections reach whoever awaits; none is unhandled
  return { promise, resolve, reject }
}

/**
 * Only trace spans keep integers beyond 2^53 exact (`bigint`); elsewhere (request logs, OTLP spans)
 * the store holds numbers, which `JSON.stringify` may write with more than 15 digits: read back, such
 * a number is a number again.
 */
const numbersOutsideTraces = <A>(value: A, isTraces: boolean): A =>
  isTraces || !hasBigInt(value) ? value : (withoutBigInts(value) as A)

/** A parsed snapshot with {@link numbersOutsideTraces} applied to every part but `traces`. */
const snapshotNumbers = (state: unknown): unknown => {
  if (typeof state !== "object" || state === null || Array.isArray(state)) return state
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(state)) out[key] = numbersOutsideTraces(value, key === "traces")
  return out
}

/** Reads the snapshot file: its generation and state, or generation 0 and no state when absent. */
const readSnapshot = (file: string): { generation: number; state: Snapshot | undefined; bytes: number } => {
  let text: string
  try {
    text = Fs.readFileSync(file, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { generation: 0, state: undefined, bytes: 0 }
    throw error
  }
  let data: unknown
  try {
    data = parseExact(text)
  } catch (error) {
    throw new Error(`not JSON (${message(error)})`)
  }
  const record = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {}
  if (record.format === "promptlayer-emulator/1") {
    return { generation: 0, state: snapshotNumbers(data) as Snapshot, bytes: text.length }
  }
  if (record.format !== DATA_FORMAT) {
    throw new Error(`not an emulator data file (format ${JSON.stringify(record.format)})`)
  }
  const generation = record.generation
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 0) {
    throw new Error(`generation: expected a non-negative integer, got ${JSON.stringify(generation)}`)
  }
  return { generation, state: snapshotNumbers(record.state) as Snapshot, bytes: text.length }
}

/** Replays one journal file; throws naming the file and line of the first bad entry. */
const replayJournal = (store: Store, file: string): number => {
  const text = Fs.readFileSync(file, "utf8")
  const lines = text.split("\n")
  // The last piece has no newline: empty, or a torn append that was never acknowledged.
  for (let i = 0; i < lines.length - 1; i++) {
    const where = `${file} line ${i + 1}`
    let changes: unknown
    try {
      changes = parseExact(lines[i]!)
    } catch (error) {
      throw new Error(`${where}: not JSON (${message(error)})`)
    }
    if (!Array.isArray(changes)) throw new Error(`${where}: expected an array of changes`)
    for (let c = 0; c < changes.length; c++) {
      const problem = checkChange(changes[c], `[${c}]`)
      if (problem !== undefined) throw new Error(`${where}: ${problem}`)
    }
    for (const change of changes) {
      store.applyChange(numbersOutsideTraces(change as JournalChange, (change as JournalChange).t === "traces"))
    }
  }
  return text.length
}

/** A store's data file: loaded at open, then every change journaled. */
export class DataFile {
  private readonly dir: string
  private readonly base: string
  private readonly io: JournalIo
  private readonly compactAfterBytes: number
  private readonly sliceMs: number
  private readonly tempSuffix: () => string
  private fd: number
  private generation: number
  /** Length of the current journal up to its last durable line. */
  private offset = 0
  private journalBytes: number
  private snapshotBytes: number
  /** Set when the journal could not be cut back after a failed write: every write is refused. */
  private broken: Error | undefined
  /** Resolved when the batch being written is durable. */
  private inFlight: { readonly done: Deferred; readonly undo: Undo } | undefined
  /** Resolved when the changes not yet cut are durable. */
  private next = deferred()
  private running = false
  private scheduled = false
  private compaction: Promise<void> | undefined
  /** Requested by a compaction while a batch is being written. */
  private rotation: Deferred | undefined
  private rollbacks = 0
  /** After a failed compaction, the journal size at which to try again (not on every write). */
  private retryCompactionAt = 0
  private closed = false
  private readonly needsSnapshot: boolean
  /** The last compaction failure, if any (compaction is retried after more writes). */
  lastCompactionError: Error | undefined

  private constructor(
    private readonly file: string,
    private readonly store: Store,
    options: DataFileOptions,
    loaded: { generation: number; journalBytes: number; snapshotBytes: number; needsSnapshot: boolean }
  ) {
    this.needsSnapshot = loaded.needsSnapshot
    this.dir = Path.dirname(file)
    this.base = Path.basename(file)
    this.io = options.io ?? defaultIo
    this.compactAfterBytes = options.compactAfterBytes ?? 8 * 1024 * 1024
    this.sliceMs = options.sliceMs ?? 4
    this.tempSuffix = options.tempSuffix ?? (() => Crypto.randomBytes(8).toString("hex"))
    this.generation = loaded.generation
    this.journalBytes = loaded.journalBytes
    this.snapshotBytes = loaded.snapshotBytes
    this.fd = this.openJournal(loaded.generation)
    store.trackChanges(() => this.schedule())
  }

  /**
   * Loads `file` (snapshot and journals) into `store`, removes stale temp files of ours, and
   * starts journaling the store's changes. Throws an `Error` naming the file and the first bad
   * entry when the data cannot be loaded; nothing is overwritten then.
   */
  static open(file: string, store: Store, options: DataFileOptions = {}): DataFile {
    const dir = Path.dirname(file)
    const base = Path.basename(file)
    Fs.mkdirSync(dir, { recursive: true })
    const temps = tempPattern(base)
    const journals: Array<{ n: number; path: string }> = []
    for (const name of Fs.readdirSync(dir)) {
      if (temps.test(name)) Fs.rmSync(Path.join(dir, name), { force: true })
      const n = journalPattern(base).exec(name)?.[1]
      if (n !== undefined) journals.push({ n: Number(n), path: Path.join(dir, name) })
    }
    let snapshot: ReturnType<typeof readSnapshot>
    try {
      snapshot = readSnapshot(file)
      if (snapshot.state !== undefined) store.restore(snapshot.state)
    } catch (error) {
      throw new Error(`${file}: ${message(error)}`)
    }
    journals.sort((a, b) => a.n - b.n)
    let journalBytes = 0
    for (const journal of journals) {
      if (journal.n < snapshot.generation) continue // already in the snapshot
      journalBytes += replayJournal(store, journal.path)
    }
    store.continueIds()
    // Journals older than the snapshot are leftovers of a compaction cut short.
    for (const journal of journals) if (journal.n < snapshot.generation) Fs.rmSync(journal.path, { force: true })
    const generation = Math.max(snapshot.generation, ...journals.map((j) => j.n + 1))
    const opened = new DataFile(file, store, options, {
      generation,
      journalBytes,
      snapshotBytes: snapshot.bytes,
      needsSnapshot: snapshot.generation === 0 || journals.filter((j) => j.n >= snapshot.generation).length > 1
    })
    return opened
  }

  /**
   * Makes the start-up state durable: journals the changes made since {@link open} and writes a
   * snapshot when the files need one (no snapshot yet, a file of an earlier version, or several
   * journals left by earlier runs). Rejects when the data file cannot be written.
   */
  async settle(): Promise<void> {
    await this.durable()
    if (this.needsSnapshot) {
      await this.compact()
      if (this.lastCompactionError !== undefined) throw this.lastCompactionError
    }
  }

  /**
   * Resolves once every change made so far is durable. Rejects with a {@link DataFileWriteError}
   * when they could not be written; they have then been undone in memory.
   */
  durable(): Promise<void> {
    if (this.store.hasChanges()) {
      const waiting = this.next.promise
      this.schedule(true)
      return waiting
    }
    return this.inFlight?.done.promise ?? Promise.resolve()
  }

  /** Writes a snapshot now and drops the journals it covers. */
  compact(): Promise<void> {
    if (this.compaction === undefined) {
      this.compaction = this.runCompaction().finally(() => {
        this.compaction = undefined
      })
    }
    return this.compaction
  }

  /** Waits for pending writes and any compaction, then closes the journal. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.durable().catch(() => {})
    this.closed = true
    await this.compaction?.catch(() => {})
    await this.durable().catch(() => {})
    Fs.closeSync(this.fd)
  }

  private openJournal(generation: number): number {
    const path = Path.join(this.dir, `${this.base}.journal.${generation}`)
    const fd = Fs.openSync(path, JOURNAL_FLAGS, 0o666)
    this.offset = Fs.fstatSync(fd).size
    syncDir(this.dir)
    return fd
  }

  private schedule(now = false) {
    if (this.running || this.scheduled) return
    if (now) {
      void this.run()
      return
    }
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      if (!this.running) void this.run()
    })
  }

  /** Writes batches until no change is left. */
  private async run() {
    this.running = true
    try {
      for (;;) {
        const rotation = this.rotation
        if (rotation !== undefined) {
          this.rotation = undefined
          try {
            await this.rotateNow()
            rotation.resolve()
          } catch (error) {
            rotation.reject(error)
          }
        }
        if (this.broken !== undefined || this.closed) {
          if (this.store.hasChanges()) this.fail(this.broken ?? new Error("the data file is closed"), [])
          return
        }
        const batch = this.store.takeChanges()
        if (batch === undefined) return
        const done = this.next
        this.next = deferred()
        this.inFlight = { done, undo: batch.undo }
        const data = Buffer.from(batch.line)
        try {
          await this.io.append(this.fd, data)
          await this.io.sync(this.fd)
        } catch (error) {
          this.inFlight = undefined
          this.fail(error, [batch.undo], done)
          continue
        }
        this.inFlight = undefined
        this.offset += data.length
        this.journalBytes += data.length
        done.resolve()
        if (this.journalBytes > Math.max(this.compactAfterBytes, this.snapshotBytes, this.retryCompactionAt)) {
          void this.compact()
        }
      }
    } finally {
      this.running = false
    }
  }

  /** Undoes every change not yet durable and rejects everyone waiting for them. */
  private fail(cause: unknown, undone: ReadonlyArray<Undo>, done?: Deferred) {
    this.store.rollback(undone)
    this.rollbacks++
    if (this.broken === undefined) {
      try {
        Fs.ftruncateSync(this.fd, this.offset)
      } catch (error) {
        this.broken = new Error(`the journal could not be cut back after a failed write: ${message(error)}`)
      }
    }
    const error = new DataFileWriteError({
      file: this.file,
      message: `cannot write ${this.file}: ${message(cause)}; the change was not applied`
    })
    done?.reject(error)
    const waiting = this.next
    this.next = deferred()
    waiting.reject(error)
  }

  /** Starts the next journal generation at a batch boundary (between two appends). */
  private rotate(): Promise<void> {
    this.rotation ??= deferred()
    const rotation = this.rotation
    // Done by the write loop, between two batches: no append is in flight on the journal it closes.
    if (!this.running) void this.run()
    return rotation.promise
  }

  /** Opens the next journal (its directory entry durable) and switches to it; no batch is written meanwhile. */
  private async rotateNow() {
    const generation = this.generation + 1
    const path = Path.join(this.dir, `${this.base}.journal.${generation}`)
    const fd = await new Promise<number>((resolve, reject) =>
      Fs.open(path, JOURNAL_FLAGS, 0o666, (error, opened) => (error ? reject(error) : resolve(opened)))
    )
    let size: number
    try {
      await syncDirAsync(this.dir)
      size = await new Promise<number>((resolve, reject) =>
        Fs.fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size)))
      )
    } catch (error) {
      Fs.closeSync(fd)
      throw error
    }
    this.offset = size
    Fs.closeSync(this.fd)
    this.fd = fd
    this.generation = generation
    this.journalBytes = 0
  }

  private async runCompaction() {
    if (this.closed || this.broken !== undefined) return
    const rollbacks = this.rollbacks
    const journalBytesBefore = this.journalBytes
    try {
      await this.rotate()
    } catch (error) {
      this.lastCompactionError = error instanceof Error ? error : new Error(String(error))
      return
    }
    const generation = this.generation
    const tmp = Path.join(this.dir, `.${this.base}.${this.tempSuffix()}.tmp`)
    try {
      const bytes = await this.writeSnapshot(tmp, generation)
      // The snapshot may hold changes made while it was written: they must be durable first.
      await this.durable()
      if (this.rollbacks !== rollbacks) throw new Error("a write failed while the snapshot was being written")
      await Fs.promises.rename(tmp, this.file)
      await syncDirAsync(this.dir)
      this.snapshotBytes = bytes
      this.retryCompactionAt = 0
      this.lastCompactionError = undefined
      for (const name of Fs.readdirSync(this.dir)) {
        const n = journalPattern(this.base).exec(name)?.[1]
        if (n !== undefined && Number(n) < generation) Fs.rmSync(Path.join(this.dir, name), { force: true })
      }
    } catch (error) {
      this.journalBytes += journalBytesBefore
      this.retryCompactionAt = this.journalBytes + Math.max(this.compactAfterBytes, this.snapshotBytes)
      this.lastCompactionError = error instanceof Error ? error : new Error(String(error))
      await Fs.promises.rm(tmp, { force: true }).catch(() => {})
    }
  }

  /**
   * Writes the snapshot to `tmp` in time slices; returns its size. Three things keep acknowledged
   * writes fast meanwhile (bench/persistence.ts, "during compaction"):
   * - each part is encoded into one reused buffer as soon as it is made, so its string dies young
   *   (strings held across an `await` are promoted, and the old generation's growth then brings
   *   full collections: tens of ms of stall at 50 000 stored requests);
   * - a slice ends after `sliceMs` or a buffer's worth, whichever comes first;
   * - before each write of the temp file, the journal batch in flight (if any) is waited for, so
   *   snapshot I/O never queues in front of an acknowledged write's append and fdatasync.
   */
  private async writeSnapshot(tmp: string, generation: number): Promise<number> {
    const flags = Fs.constants.O_WRONLY | Fs.constants.O_CREAT | Fs.constants.O_EXCL | Fs.constants.O_NOFOLLOW
    const handle = await Fs.promises.open(tmp, flags, 0o666)
    let bytes = 0
    let unsynced = 0
    // One reused buffer: allocating ~100 MB of Buffers per compaction would make V8 run full
    // (stop-the-world) collections for the external memory.
    const scratch = Buffer.allocUnsafe(SLICE_BYTES)
    let used = 0
    const write = async (data: Buffer, length: number) => {
      await this.inFlight?.done.promise.catch(() => {})
      if (this.closed) throw new Error("closed while compacting")
      bytes += length
      unsynced += length
      await handle.write(data, 0, length)
      // Bounded dirty data: on ext4 a journal fdatasync would otherwise wait for all of it.
      if (unsynced >= SYNC_EVERY_BYTES) {
        unsynced = 0
        await this.inFlight?.done.promise.catch(() => {})
        await handle.datasync()
      }
    }
    const flush = async () => {
      if (used > 0) await write(scratch, used)
      used = 0
    }
    try {
      let sliceStart = performance.now()
      const add = async (part: string) => {
        // A UTF-16 unit is at most 3 UTF-8 bytes.
        if (used + part.length * 3 > SLICE_BYTES) await flush()
        if (part.length * 3 > SLICE_BYTES) {
          const data = Buffer.from(part)
          await write(data, data.length)
        } else used += scratch.write(part, used)
        if (used > 0 && performance.now() - sliceStart >= this.sliceMs) {
          await flush()
          sliceStart = performance.now()
        }
      }
      await add(`{"format":"${DATA_FORMAT}","generation":${generation},"state":`)
      for (const part of this.store.snapshotParts()) await add(part)
      await add("}\n")
      await flush()
      await handle.sync()
    } finally {
      await handle.close()
    }
    return bytes
  }
}
