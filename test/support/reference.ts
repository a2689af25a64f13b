/**
 * Loads the reference data kept in `test/fixtures/` (see its README for where each file comes from).
 * Tests never read outside the repository.
 */
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"

/** The parsed JSON of `test/fixtures/<file>`; throws naming the path when it is missing. */
export const loadReferenceJson = (file: string): unknown => {
  const found = fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url))
  if (!fs.existsSync(found)) {
    throw new Error(`fixture ${file} not found at ${found}`)
  }
  return JSON.parse(fs.readFileSync(found, "utf8"))
}
