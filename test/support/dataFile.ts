/**
 * Helpers of the persistence tests: temp directories, a request body, reading a data file back
 * into a fresh store, and journal writes that fail on demand.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { DataFile, type DataFileOptions, type JournalIo } from "../../src/internal/emulator/persistence.js"
import { Store } from "../../src/internal/emulator/store.js"

/** A fresh temp directory, removed by `removeAll`. */
export const tempDirs = () => {
  const dirs: Array<string> = []
  return {
    make: () => {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "pl-emulator-"))
      dirs.push(dir)
      return dir
    },
    removeAll: () => {
      for (const dir of dirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A `/log-request` body tagged `n<n>`. */
export const logBody = (n: number) => ({
  provider: "openai",
  model: "gpt-4o-mini",
  input: { type: "chat", messages: [{ role: "user", content: [{ type: "text", text: `question ${n}` }] }] },
  output: { type: "chat", messages: [{ role: "assistant", content: [{ type: "text", text: `answer ${n}` }] }] },
  request_start_time: "2026-01-01T00:00:00Z",
  request_end_time: "2026-01-01T00:00:01Z",
  tags: [`n${n}`]
})

/** Loads `file` into a fresh store (as a restarted emulator would), then closes it. */
export const reload = async (file: string): Promise<Store> => {
  const store = new Store()
  const dataFile = DataFile.open(file, store)
  await dataFile.close()
  return store
}

/** Opens `file` on a fresh store. */
export const open = (file: string, options: DataFileOptions = {}) => {
  const store = new Store()
  return { store, dataFile: DataFile.open(file, store, options) }
}

/** Journal writes that work until `failNext(kind)` makes the next append or sync fail once. */
export const faultyIo = () => {
  const real: JournalIo = {
    append: (fd, data) =>
      new Promise((resolve, reject) => Fs.write(fd, data, (error) => (error ? reject(error) : resolve()))),
    sync: (fd) => new Promise((resolve, reject) => Fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())))
  }
  let failing: "append" | "sync" | "append-half" | undefined
  const io: JournalIo = {
    append: (fd, data) => {
      if (failing === "append") {
        failing = undefined
        return Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))
      }
      if (failing === "append-half") {
        failing = undefined
        // A partial write, as on a full disk: the journal must be cut back to its last good line.
        return real
          .append(fd, data.subarray(0, Math.floor(data.length / 2)))
          .then(() => Promise.reject(new Error("ENOSPC: no space left on device, write")))
      }
      return real.append(fd, data)
    },
    sync: (fd) => {
      if (failing === "sync") {
        failing = undefined
        return Promise.reject(new Error("EIO: i/o error, fdatasync"))
      }
      return real.sync(fd)
    }
  }
  return { io, failNext: (kind: "append" | "sync" | "append-half") => (failing = kind) }
}
