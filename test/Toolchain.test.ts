/**
 * The toolchain the package is tested with: every npm script runs on the Node 22 that the `node`
 * devDependency installs (the system Node may be older), and the package's metadata says what it needs.
 */
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const pkg = JSON.parse(Fs.readFileSync(Path.join(root, "package.json"), "utf8")) as {
  engines: { node: string }
  peerDependencies: Record<string, string>
  devDependencies: Record<string, string>
  allowScripts: Record<string, boolean>
}
const run = promisify(execFile)

describe("toolchain", () => {
  it("the tests run on Node 22 from node_modules, the node devDependency", () => {
    assert.strictEqual(process.versions.node.split(".")[0], "22")
    assert.strictEqual(pkg.devDependencies.node?.split(".")[0], "22")
    // The `node` package's binary (node_modules/node/bin/node), not the system's; node_modules may be
    // a link to another checkout's, so the path is checked from node_modules on.
    assert.match(Fs.realpathSync(process.execPath), /[/\\]node_modules[/\\]node[/\\]bin[/\\]node(\.exe)?$/)
  })

  it("the package needs effect 4 and Node 22.12+, nothing of @effect/platform", () => {
    assert.match(pkg.peerDependencies.effect ?? "", /^\^4\./)
    assert.strictEqual(pkg.engines.node, ">=22.12")
    assert.notProperty(pkg.peerDependencies, "@effect/platform")
    assert.notProperty(pkg.devDependencies, "@effect/platform")
    assert.isTrue(pkg.allowScripts.node, "the node package's install script fetches the Node 22 binary")
  })

  it("scripts/checkNode.mjs lets Node 22 through and stops an older Node with a message", async () => {
    const script = Path.join(root, "scripts", "checkNode.mjs")
    await run(process.execPath, [script])
    // An older Node, as `npm ci --ignore-scripts` would leave the scripts on: simulated by the version it reports.
    const old = await run(process.execPath, [
      "--import",
      "data:text/javascript,Object.defineProperty(process.versions,'node',{value:'20.20.2'})",
      script
    ]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error
    )
    assert.strictEqual(old?.code, 1)
    assert.include(old?.stderr, "without --ignore-scripts")
  })
})
