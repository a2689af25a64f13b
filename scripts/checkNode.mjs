// Every npm script must run on the Node 22 that the `node` devDependency installs into
// node_modules/.bin (the system Node may be older). `npm ci --ignore-scripts` skips that install
// and npm then silently runs the scripts on the system Node: say so instead.
const major = Number(process.versions.node.split(".")[0])
if (major < 22) {
  console.error(
    `promptlayer-effect: this script needs Node 22 or newer, but runs on Node ${process.versions.node} (${process.execPath}).\n` +
      "The node devDependency provides Node 22: run `npm ci` without --ignore-scripts (its install script fetches the binary)."
  )
  process.exit(1)
}
