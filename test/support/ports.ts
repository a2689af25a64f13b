/** Small network helpers for tests and benchmarks (loopback only). */
import * as Net from "node:net"

/** A port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as Net.AddressInfo
      server.close(() => resolve(port))
    })
  })
