/** The part of autocannon's API the benchmark uses (the package ships no types). */
declare module "autocannon" {
  interface Options {
    readonly url: string
    readonly method?: string
    readonly connections?: number
    readonly pipelining?: number
    readonly duration?: number
    readonly headers?: Record<string, string>
    readonly body?: string
  }
  interface Histogram {
    readonly average: number
    readonly total: number
    readonly p50: number
    readonly p99: number
  }
  interface Result {
    readonly requests: Histogram
    readonly latency: Histogram
    readonly non2xx: number
    readonly errors: number
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
