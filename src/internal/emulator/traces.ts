/**
 * The emulator's PromptLayer traces: `POST /spans-bulk`, `GET /api/public/v2/traces/{trace_id}` and
 * `POST /api/public/v2/traces/{trace_id}/close`, as synchronous state (no HTTP); the closed traces
 * are shared with the store's OTLP spans (`POST /v1/traces`). Owned by the
 * {@link Store} (`store.traces`), so spans and closed traces are part of its snapshot, reset and
 * data-file journal (`mark`/`exportChange`/`applyChange`/`rollback`: both lists are append-only, so
 * a journal line holds only the entries appended since the last one).
 *
 * Decisions where the document is silent (see the README's emulator section):
 * - A batch is atomic: every span (and its `log_request`) is validated first; one invalid span
 *   answers 422 with the `detail` of every problem, and nothing is stored.
 * - `start_time`/`end_time` are nanoseconds since the epoch: a non-negative JSON integer, or a string
 *   of decimal digits. The route parses its body with `exactJson.ts`, so an integer above 2^53
 *   keeps every digit (a `bigint`); the times are kept as decimal strings, answered as JSON integers
 *   by the read API (`GET /emulator/traces/{trace_id}`) and as ISO-8601 with nine fraction digits
 *   by `GET /api/public/v2/traces/{trace_id}` (the real server answers ISO strings there). Other
 *   integers above 2^53 in a span (event times, attributes) are kept as `bigint`s and written back
 *   as JSON integers; inside a `log_request` they are read as numbers, as `/log-request` reads them.
 * - Spans may arrive in any order (a child before its parent); repeated `span_id`s are stored again,
 *   as a retried `/log-request` is.
 * - A span whose trace is closed is dropped and named in `rejected_span_ids` (its `log_request` is
 *   not created); the batch still succeeds (201) for the other spans.
 */
import type { LogRequestBody } from "../../PromptLayerSchema.js"
import { hasBigInt, stringifyExact, withoutBigInts } from "./exactJson.js"
import {
  type Detail,
  decodeSpansBulk,
  parseNanos,
  type SPAN_KINDS,
  type STATUS_CODES,
  type WireSpan
} from "./spansBulkBody.js"

export { SPAN_KINDS, STATUS_CODES, parseNanos } from "./spansBulkBody.js"

/** Nanoseconds (decimal string) → ISO-8601 with milliseconds (sub-millisecond digits dropped). */
export const nanosToIso = (nanos: string): string => new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString()

/**
 * Nanoseconds (decimal string) → ISO-8601 with nine fraction digits: every digit kept.
 *
 * @example
 * ```ts
 * nanosToIsoExact("1800000000123456789") // "2027-01-15T08:00:00.123456789Z"
 * ```
 */
export const nanosToIsoExact = (nanos: string): string => {
  const value = BigInt(nanos)
  const iso = new Date(Number(value / 1_000_000n)).toISOString()
  return `${iso.slice(0, iso.lastIndexOf("."))}.${(value % 1_000_000_000n).toString().padStart(9, "0")}Z`
}

/** Nanoseconds (decimal strings) between two times, in milliseconds (never negative). */
export const nanosBetweenMs = (start: string, end: string): number => {
  const d = BigInt(end) - BigInt(start)
  return d <= 0n ? 0 : Number(d) / 1e6
}

// =============================================================================
// Stored model
// =============================================================================

/** A span received on `/spans-bulk`, as the emulator keeps it (times exact, in nanoseconds). */
export interface StoredTraceSpan {
  /** The emulator's id of the span (the `spans[].id` of the response). */
  readonly id: number
  readonly trace_id: string
  readonly span_id: string
  readonly parent_id: string | null
  readonly trace_state: string
  readonly name: string
  readonly kind: (typeof SPAN_KINDS)[number]
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly start_time: string
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly end_time: string
  readonly status: { readonly status_code: (typeof STATUS_CODES)[number]; readonly description: string | null }
  readonly attributes: Readonly<Record<string, unknown>>
  readonly events: ReadonlyArray<Readonly<Record<string, unknown>>>
  readonly links: ReadonlyArray<Readonly<Record<string, unknown>>>
  readonly resource: { readonly attributes: Readonly<Record<string, string>>; readonly schema_url: string }
  /** The id of the request log created from the span's `log_request`, if any. */
  readonly request_log_id: number | null
  /** Input + output tokens of that request log (0 without one). */
  readonly tokens: number
  readonly received_at: string
}

/** A closed trace (`POST .../close` or `close_after`). */
export interface TraceClosure {
  readonly id: string
  readonly workspace_id: number
  readonly trace_id: string
  readonly status: "closed"
  readonly created_at: string
  readonly updated_at: string
}

/** One trace of the read API's listing. */
export interface TraceSummary {
  readonly trace_id: string
  /** Name of the root span (the span without a parent, else the earliest span whose parent is missing). */
  readonly name: string
  readonly root_span_id: string
  /** ISO-8601 start of the earliest span. */
  readonly start_time: string
  /** ISO-8601 end of the latest span. */
  readonly end_time: string
  /** From the earliest start to the latest end, in milliseconds. */
  readonly duration_ms: number
  /** The root span's status code. */
  readonly status: (typeof STATUS_CODES)[number]
  /** Spans of the trace with `StatusCode.ERROR`. */
  readonly error_spans: number
  readonly span_count: number
  /** Tokens of the trace's request logs. */
  readonly tokens: number
  readonly request_log_ids: ReadonlyArray<number>
  readonly closed: boolean
}

/** The traces part of the store's snapshot. */
export interface TracesSnapshot {
  readonly next: number
  readonly spans: ReadonlyArray<StoredTraceSpan>
  readonly closures: ReadonlyArray<TraceClosure>
}

/**
 * A journal change of the trace state (both lists are append-only): the spans from index `from`
 * on, the closures from index `closedFrom` on, and the next span id. Replaying it over a state
 * that already holds those entries (a snapshot written while it was journaled) changes nothing.
 */
export interface TracesChange {
  readonly t: "traces"
  readonly from: number
  readonly spans: ReadonlyArray<StoredTraceSpan>
  readonly closedFrom: number
  readonly closures: ReadonlyArray<TraceClosure>
  readonly next: number
}

/** Where the state stood at a point (no copy): what {@link Traces.exportChange} and {@link Traces.rollback} start from. */
export interface TracesMark {
  readonly spans: ReadonlyArray<StoredTraceSpan>
  readonly spanCount: number
  readonly closed: ReadonlyArray<TraceClosure>
  readonly closedCount: number
  readonly next: number
}

/** A span's `log_request` (times inherited), and what the store's check decoded from it. */
export interface CheckedLog {
  readonly input: Record<string, unknown>
  readonly body: typeof LogRequestBody.Type
}

/** Options of {@link Traces.createSpansBulk}. */
export interface SpansBulkOptions {
  /**
   * The body was parsed for this call and nothing else holds it: it is stored without a copy. By
   * default it is copied, as a caller may change its objects later.
   */
  readonly owned?: boolean | undefined
  /** The body's JSON size when known (counted against the store's limit instead of serializing it again). */
  readonly bodyChars?: number | undefined
}

/** What the traces need from the store: request logs, failures, the clock, change notification. */
export interface TraceDeps {
  readonly now: () => Date
  /** Validates a `/log-request` body like the route does and returns it decoded; throws its 422. */
  readonly checkLog: (input: Record<string, unknown>) => typeof LogRequestBody.Type
  /** Creates a request log linked to `spanId` from a checked body (copied when `copy`). */
  readonly createLog: (
    log: CheckedLog,
    spanId: string,
    copy: boolean
  ) => { readonly id: number; readonly tokens: number }
  /** A failure the HTTP layer answers as is (the store's `StoreFailure`). */
  readonly fail: (status: number, body: Record<string, unknown>) => Error
  readonly isFailure: (
    error: unknown
  ) => error is Error & { readonly status: number; readonly body: Record<string, unknown> }
  /** Counts a batch (of `size` chars when known) against the store's size limit before anything is stored (its 507 when full). */
  readonly charge: (input: unknown, size: number | undefined) => void
  /** Called after every change (the store bumps its revision and schedules the journal write). */
  readonly changed: () => void
  /** True when the store holds OTLP spans (`/v1/traces`) of the trace, so it can be closed. */
  readonly hasOtlpSpans: (traceId: string) => boolean
}

const clone = <A>(a: A): A => structuredClone(a)

const uuid = (): string => globalThis.crypto.randomUUID()

/** A `log_request` with `request_start_time`/`request_end_time` inherited from the span when omitted (or null). */
const withInheritedTimes = (log: Record<string, unknown>, start: string, end: string): Record<string, unknown> => ({
  ...log,
  request_start_time: log.request_start_time ?? nanosToIso(start),
  request_end_time: log.request_end_time ?? nanosToIso(end)
})

/** The JSON of the items present now, comma-separated, one part each (entries dropped meanwhile are skipped). */
function* jsonItems(list: ReadonlyArray<unknown>): Generator<string> {
  const count = list.length
  let first = true
  for (let i = 0; i < count; i++) {
    const item = list[i]
    if (item === undefined) continue
    yield first ? stringifyExact(item) : `,${stringifyExact(item)}`
    first = false
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

// =============================================================================
// State
// =============================================================================

/** Spans and closed traces. Synchronous; owned by the store. */
export class Traces {
  private nextSpan = 1
  /** Append-only (a reset replaces the array), so a mark is its reference and length. */
  private spans: Array<StoredTraceSpan> = []
  /** Closures in closing order, append-only like `spans`; `closures` indexes them by trace id. */
  private closed: Array<TraceClosure> = []
  private closures = new Map<string, TraceClosure>()

  constructor(private readonly deps: TraceDeps) {}

  /**
   * POST `/spans-bulk` → the 201 `CreateSpansBulkResponse`. Throws a 422 `{ detail }` (nothing
   * stored) when any span or `log_request` is invalid.
   */
  createSpansBulk(input: unknown, options: SpansBulkOptions = {}): Record<string, unknown> {
    const decoded = decodeSpansBulk(input)
    const checked = this.checkLogs(input)
    const details = [...("ok" in decoded ? [] : decoded.details), ...checked.details]
    if (!("ok" in decoded) || details.length > 0) throw this.deps.fail(422, { detail: details })
    const batch = decoded.ok
    const copy = options.owned !== true
    this.deps.charge(input, options.bodyChars)
    const logs = checked.logs
    const received_at = this.deps.now().toISOString()
    const created: Array<{ id: number; name: string; span_id: string }> = []
    const requestLogs: Array<{ id: number; span_id: string }> = []
    const rejectedSpans: Array<string> = []
    const rejectedTraces = new Set<string>()
    batch.spans.forEach((span, i) => {
      const { trace_id, span_id } = span.context
      if (this.closures.has(trace_id)) {
        rejectedSpans.push(span_id)
        rejectedTraces.add(trace_id)
        return
      }
      const log = logs[i]
      const logged = log === undefined ? undefined : this.deps.createLog(log, span_id, copy)
      if (logged !== undefined) requestLogs.push({ id: logged.id, span_id })
      const stored = this.store(span, logged, received_at, copy)
      created.push({ id: stored.id, name: stored.name, span_id })
    })
    let closed = 0
    if (batch.close_after === true) {
      for (const span of batch.spans) {
        if (this.closures.has(span.context.trace_id)) continue
        this.close(span.context.trace_id)
        closed++
      }
    }
    if (created.length > 0 || closed > 0) this.deps.changed()
    return {
      success: true,
      spans: created,
      request_logs: requestLogs,
      ...(rejectedSpans.length > 0
        ? {
            rejected_span_ids: rejectedSpans,
            rejected_trace_ids: [...rejectedTraces],
            rejection_reason: "trace_closed"
          }
        : {})
    }
  }

  /** GET `/api/public/v2/traces/{trace_id}` → `TraceDetailResponse` (times as ISO strings); 404 when unknown. */
  getTrace(traceId: string): Record<string, unknown> {
    const spans = this.spansOf(traceId)
    if (spans.length === 0) throw this.deps.fail(404, { success: false, message: `Trace ${traceId} not found` })
    return {
      success: true,
      trace_id: traceId,
      spans: spans.map((s) => ({
        id: s.id,
        name: s.name,
        span_id: s.span_id,
        parent_id: s.parent_id,
        request_log_id: s.request_log_id,
        start_time: nanosToIsoExact(s.start_time),
        end_time: nanosToIsoExact(s.end_time),
        kind: s.kind,
        status: clone(s.status)
      }))
    }
  }

  /**
   * POST `/api/public/v2/traces/{trace_id}/close` → 201 `{ success, closure }`; 409 when already
   * closed; 404 for a trace with no span.
   */
  closeTrace(traceId: string): Record<string, unknown> {
    if (this.closures.has(traceId)) throw this.deps.fail(409, { success: false, message: "Trace already closed" })
    if (!this.spans.some((s) => s.trace_id === traceId) && !this.deps.hasOtlpSpans(traceId)) {
      throw this.deps.fail(404, { success: false, message: `Trace ${traceId} not found` })
    }
    const closure = this.close(traceId)
    this.deps.changed()
    return { success: true, closure: clone(closure) }
  }

  /** The closed traces among `traceIds`, each once, in the order given. */
  closedAmong(traceIds: Iterable<string>): Array<string> {
    return [...new Set(traceIds)].filter((id) => this.closures.has(id))
  }

  /** Closes every trace of `traceIds` not closed yet (OTLP `close_after`); returns how many were closed. */
  closeAll(traceIds: Iterable<string>): number {
    let closed = 0
    for (const id of new Set(traceIds)) {
      if (this.closures.has(id)) continue
      this.close(id)
      closed++
    }
    if (closed > 0) this.deps.changed()
    return closed
  }

  /** Every trace, newest (latest start) first. */
  list(): Array<TraceSummary> {
    const byTrace = new Map<string, Array<StoredTraceSpan>>()
    for (const s of this.spans) {
      const list = byTrace.get(s.trace_id)
      if (list === undefined) byTrace.set(s.trace_id, [s])
      else list.push(s)
    }
    return [...byTrace.entries()]
      .map(([traceId, spans]) => this.summary(traceId, spans))
      .sort((a, b) => (a.start_time < b.start_time ? 1 : a.start_time > b.start_time ? -1 : 0))
  }

  /** The spans of one trace in arrival order (copies); empty when unknown. */
  spansOf(traceId: string): Array<StoredTraceSpan> {
    return this.spans.filter((s) => s.trace_id === traceId).map(clone)
  }

  /** The closure of a trace, if closed. */
  closure(traceId: string): TraceClosure | undefined {
    const c = this.closures.get(traceId)
    return c === undefined ? undefined : clone(c)
  }

  /** The trace and span a request log was created for (by `/spans-bulk`), if any. */
  traceOfRequest(requestId: number): { readonly trace_id: string; readonly span_id: string } | undefined {
    const span = this.spans.find((s) => s.request_log_id === requestId)
    return span === undefined ? undefined : { trace_id: span.trace_id, span_id: span.span_id }
  }

  /** Number of spans stored. */
  count(): number {
    return this.spans.length
  }

  /** JSON-safe state, for the store's snapshot. */
  snapshot(): TracesSnapshot {
    return { next: this.nextSpan, spans: this.spans.map(clone), closures: this.closed.map(clone) }
  }

  /**
   * The state as the JSON of {@link snapshot}, in small parts (one span each) so that a large
   * state is written without blocking. Entries appended meanwhile may be left out: the journal
   * written after the snapshot began holds them.
   */
  *snapshotParts(): Generator<string> {
    yield '{"spans":['
    yield* jsonItems(this.spans)
    yield '],"closures":['
    yield* jsonItems(this.closed)
    yield `],"next":${this.nextSpan}}`
  }

  /** The current position, for {@link exportChange} and {@link rollback} (constant time). */
  mark(): TracesMark {
    return {
      spans: this.spans,
      spanCount: this.spans.length,
      closed: this.closed,
      closedCount: this.closed.length,
      next: this.nextSpan
    }
  }

  /** True when anything changed since `mark`. */
  changedSince(mark: TracesMark): boolean {
    return (
      this.spans !== mark.spans ||
      this.spans.length !== mark.spanCount ||
      this.closed !== mark.closed ||
      this.closed.length !== mark.closedCount ||
      this.nextSpan !== mark.next
    )
  }

  /**
   * The change since `mark` as a journal record (only what was appended; everything after a
   * reset), or undefined when nothing changed.
   */
  exportChange(mark: TracesMark): TracesChange | undefined {
    if (!this.changedSince(mark)) return undefined
    const from = this.spans === mark.spans ? Math.min(mark.spanCount, this.spans.length) : 0
    const closedFrom = this.closed === mark.closed ? Math.min(mark.closedCount, this.closed.length) : 0
    return {
      t: "traces",
      from,
      spans: this.spans.slice(from),
      closedFrom,
      closures: this.closed.slice(closedFrom),
      next: this.nextSpan
    }
  }

  /**
   * Applies a journal record while loading (already checked; not reported as a change); call
   * {@link continueIds} after the last one.
   */
  applyChange(change: TracesChange): void {
    this.spans.length = Math.min(this.spans.length, change.from)
    for (const span of change.spans) this.spans.push(span)
    this.truncateClosed(change.closedFrom)
    for (const closure of change.closures) {
      if (this.closures.has(closure.trace_id)) continue
      this.closed.push(closure)
      this.closures.set(closure.trace_id, closure)
    }
    this.nextSpan = change.next
  }

  /** Undoes every change since `mark` (a write of them could not be made durable). */
  rollback(mark: TracesMark): void {
    if (this.closed !== mark.closed) {
      this.closed = mark.closed as Array<TraceClosure>
      this.closures = new Map(this.closed.map((c) => [c.trace_id, c]))
    }
    this.truncateClosed(mark.closedCount)
    this.spans = mark.spans as Array<StoredTraceSpan>
    this.spans.length = Math.min(this.spans.length, mark.spanCount)
    this.nextSpan = mark.next
  }

  /** Replaces the state (an absent part, from a file written before traces, empties it). */
  restore(snapshot: TracesSnapshot | undefined): void {
    this.clear()
    if (snapshot === undefined) return
    this.spans = snapshot.spans.map(clone)
    for (const c of snapshot.closures) {
      if (this.closures.has(c.trace_id)) continue
      this.closed.push(clone(c))
      this.closures.set(c.trace_id, this.closed[this.closed.length - 1]!)
    }
    this.nextSpan = snapshot.next
    this.continueIds()
  }

  /** Forgets every span and closure (new lists: marks taken before still describe the old ones). */
  clear(): void {
    this.spans = []
    this.closed = []
    this.closures = new Map()
    this.nextSpan = 1
  }

  /** Makes the span id counter continue after the largest id stored. */
  continueIds(): void {
    let max = this.nextSpan - 1
    for (const s of this.spans) if (s.id > max) max = s.id
    this.nextSpan = max + 1
  }

  private truncateClosed(length: number) {
    while (this.closed.length > length) this.closures.delete(this.closed.pop()!.trace_id)
  }

  /**
   * Every span's `log_request`, validated as a `/log-request` body (times inherited from the span):
   * the decoded logs by span index, or the 422 details of every problem.
   */
  private checkLogs(input: unknown): {
    readonly logs: ReadonlyArray<CheckedLog | undefined>
    readonly details: ReadonlyArray<Detail>
  } {
    const spans = isRecord(input) && Array.isArray(input.spans) ? input.spans : []
    const logs: Array<CheckedLog | undefined> = []
    const details: Array<Detail> = []
    spans.forEach((span: unknown, i) => {
      logs.push(undefined)
      if (!isRecord(span) || !isRecord(span.log_request)) return
      // An invalid span time is reported on the span; the epoch stands in so the log is still checked.
      const start = parseNanos(span.start_time) ?? "0"
      const end = parseNanos(span.end_time) ?? "0"
      // A log is stored as `/log-request` stores it: its integers as numbers.
      const raw = hasBigInt(span.log_request)
        ? (withoutBigInts(span.log_request) as Record<string, unknown>)
        : span.log_request
      const log = withInheritedTimes(raw, start, end)
      try {
        logs[i] = { input: log, body: this.deps.checkLog(log) }
      } catch (error) {
        if (!this.deps.isFailure(error)) throw error
        const prefix = ["body", "spans", i, "log_request"]
        const found = Array.isArray(error.body.detail) ? (error.body.detail as Array<Detail>) : []
        if (found.length === 0) {
          details.push({ loc: prefix, msg: String(error.body.message ?? error.message), type: "value_error" })
        } else for (const d of found) details.push({ ...d, loc: [...prefix, ...d.loc.slice(1)] })
      }
    })
    return { logs, details }
  }

  private store(
    span: WireSpan,
    logged: { readonly id: number; readonly tokens: number } | undefined,
    received_at: string,
    copy: boolean
  ): StoredTraceSpan {
    const own = copy ? clone : <A>(a: A): A => a
    const stored: StoredTraceSpan = {
      id: this.nextSpan++,
      trace_id: span.context.trace_id,
      span_id: span.context.span_id,
      parent_id: span.parent_id ?? null,
      trace_state: span.context.trace_state,
      name: span.name,
      kind: span.kind,
      start_time: span.start_time,
      end_time: span.end_time,
      status: { status_code: span.status.status_code, description: span.status.description ?? null },
      attributes: own(span.attributes),
      events: own(span.events ?? []),
      links: own(span.links ?? []),
      resource: own(span.resource),
      request_log_id: logged?.id ?? null,
      tokens: logged?.tokens ?? 0,
      received_at
    }
    this.spans.push(stored)
    return stored
  }

  private close(traceId: string): TraceClosure {
    const now = this.deps.now().toISOString()
    const closure: TraceClosure = {
      id: uuid(),
      workspace_id: 1,
      trace_id: traceId,
      status: "closed",
      created_at: now,
      updated_at: now
    }
    this.closed.push(closure)
    this.closures.set(traceId, closure)
    return closure
  }

  private summary(traceId: string, spans: ReadonlyArray<StoredTraceSpan>): TraceSummary {
    const root = rootOf(spans)
    let start = spans[0]!.start_time
    let end = spans[0]!.end_time
    for (const s of spans) {
      if (BigInt(s.start_time) < BigInt(start)) start = s.start_time
      if (BigInt(s.end_time) > BigInt(end)) end = s.end_time
    }
    return {
      trace_id: traceId,
      name: root.name,
      root_span_id: root.span_id,
      start_time: nanosToIso(start),
      end_time: nanosToIso(end),
      duration_ms: nanosBetweenMs(start, end),
      status: root.status.status_code,
      error_spans: spans.filter((s) => s.status.status_code === "StatusCode.ERROR").length,
      span_count: spans.length,
      tokens: spans.reduce((n, s) => n + s.tokens, 0),
      request_log_ids: spans.flatMap((s) => (s.request_log_id === null ? [] : [s.request_log_id])),
      closed: this.closures.has(traceId)
    }
  }
}

/**
 * The root of a trace's spans: the earliest span without a parent, else (the parent has not
 * arrived) the earliest span whose parent is not among them.
 */
export const rootOf = (spans: ReadonlyArray<StoredTraceSpan>): StoredTraceSpan => {
  const ids = new Set(spans.map((s) => s.span_id))
  const earliest = (list: ReadonlyArray<StoredTraceSpan>) =>
    list.reduce((a, b) => (BigInt(b.start_time) < BigInt(a.start_time) ? b : a))
  const parentless = spans.filter((s) => s.parent_id === null)
  if (parentless.length > 0) return earliest(parentless)
  const orphans = spans.filter((s) => !ids.has(s.parent_id!))
  return earliest(orphans.length > 0 ? orphans : spans)
}
