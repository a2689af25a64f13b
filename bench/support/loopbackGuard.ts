/**
 * Counts TCP connections of this process to anything but loopback (node:net's `net.client.socket`
 * diagnostics channel, which `node:http` and undici's `fetch` both go through), so a benchmark can
 * prove that nothing left the machine.
 */
import * as DiagnosticsChannel from "node:diagnostics_channel"
import type * as Net from "node:net"

const loopback = (address: string | undefined) =>
  address === undefined || address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1"

/** Starts watching; returns the non-loopback addresses connected to so far (a live array). */
export const watchConnections = (): ReadonlyArray<string> => {
  const outside: Array<string> = []
  DiagnosticsChannel.subscribe("net.client.socket", (message) => {
    const socket = (message as { socket: Net.Socket }).socket
    socket.once("connect", () => {
      if (!loopback(socket.remoteAddress)) outside.push(`${socket.remoteAddress}:${socket.remotePort}`)
    })
  })
  return outside
}
