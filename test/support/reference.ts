/**
 * Loads the read-only reference material in `../shared/reference/` (beside the repository, in a
 * working tree and in CI), failing with a clear message when it is missing.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const candidates = (file: string): Array<string> => [
  fileURLToPath(new URL(`../../../shared/reference/${file}`, import.meta.url)),
  path.resolve(process.cwd(), "..", "shared", "reference", file)
]

/** The parsed JSON of `../shared/reference/<file>`; throws naming every place it looked. */
export const loadReferenceJson = (file: string): unknown => {
  const tried = candidates(file)
  const found = tried.find((candidate) => fs.existsSync(candidate))
  if (found === undefined) {
    throw new Error(
      `reference file ${file} not found; this test needs the shared reference material beside the repository ` +
        `(looked in: ${tried.join(", ")})`
    )
  }
  return JSON.parse(fs.readFileSync(found, "utf8"))
}
