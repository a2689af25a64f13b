/**
 * The dashboard's trace pages: the list of traces (`/traces`) and one trace (`/traces/{trace_id}`)
 * as a waterfall of its span tree, each span opening onto its status, times, inputs/outputs,
 * attributes, events and a link to its request log. Plain server-rendered HTML (`<details>` for
 * the span panels, no script), every interpolated value escaped.
 */
import { escapeHtml, messages, page } from "./dashboard.js"
import { stringifyExact } from "./exactJson.js"
import type { StoredRequest } from "./store.js"
import {
  nanosBetweenMs,
  nanosToIsoExact,
  type StoredTraceSpan,
  type TraceClosure,
  type TraceSummary
} from "./traces.js"

const STYLE = `<style>
.wf{background:#fff;border:1px solid #e2e5ea;font-size:14px}
.wf summary{display:grid;grid-template-columns:minmax(220px,30%) 1fr 90px 70px;gap:8px;align-items:center;padding:4px 8px;cursor:pointer;border-bottom:1px solid #eef0f3;list-style:none}
.wf summary::-webkit-details-marker{display:none}
.wf details[open]>summary{background:#f0f4fb}
.wf-name{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.wf-kind{color:#5f6b7a;font-size:11px;margin-left:4px}
.wf-track{position:relative;height:14px;background:#f3f4f6;border-radius:2px}
.wf-bar{position:absolute;top:0;bottom:0;min-width:2px;border-radius:2px;background:#4a7fd4}
.wf-bar.ERROR{background:#d93025}.wf-bar.UNSET{background:#9aa3ad}
.wf-dur{text-align:right;font-variant-numeric:tabular-nums}
.wf-axis{display:grid;grid-template-columns:minmax(220px,30%) 1fr 90px 70px;gap:8px;padding:4px 8px;font-size:12px;color:#5f6b7a;background:#eef0f3}
.wf-axis span:nth-child(2){display:flex;justify-content:space-between}
.span-detail{padding:8px 16px 12px;border-bottom:1px solid #e2e5ea;background:#fafbfc}
.OK{color:#137333}.UNSET{color:#5f6b7a}
.orphan{font-size:11px;color:#b06000;margin-left:4px}
table.attrs td:first-child{font-family:monospace;white-space:nowrap;width:1%}
</style>`

/** Attribute values longer than this are cut in the page (the read API has them whole). */
const MAX_SHOWN = 20_000

const statusName = (code: string) => code.replace(/^StatusCode\./, "")
const kindName = (kind: string) => kind.replace(/^SpanKind\./, "")
const ms = (value: number) => `${value >= 100 ? Math.round(value) : Math.round(value * 100) / 100} ms`
const href = (value: string) => escapeHtml(encodeURIComponent(value))

const shown = (value: unknown): string => {
  const text = typeof value === "string" ? value : stringifyExact(value, 2)
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}… (${text.length} characters)` : text
}

/** The traces page: one row per trace (its root span), newest first. */
export const renderTraces = (traces: ReadonlyArray<TraceSummary>): string => {
  const rows = traces
    .map(
      (t) => `<tr data-trace-id="${escapeHtml(t.trace_id)}">
<td><a href="/traces/${href(t.trace_id)}">${escapeHtml(t.name)}</a><br><small><code>${escapeHtml(t.trace_id)}</code></small></td>
<td>${escapeHtml(t.start_time)}</td>
<td>${escapeHtml(ms(t.duration_ms))}</td>
<td class="${escapeHtml(statusName(t.status))}">${escapeHtml(statusName(t.status))}${t.error_spans > 0 ? ` <small class="ERROR">(${escapeHtml(t.error_spans)} error${t.error_spans > 1 ? "s" : ""})</small>` : ""}</td>
<td>${escapeHtml(t.span_count)}</td>
<td>${escapeHtml(t.tokens)}</td>
<td>${t.closed ? "closed" : ""}</td>
</tr>`
    )
    .join("\n")
  return page(
    "Traces",
    `${STYLE}<h2>Traces (${traces.length})</h2>
<table id="traces"><thead><tr><th>Root span</th><th>Start</th><th>Duration</th><th>Status</th><th>Spans</th><th>Tokens</th><th></th></tr></thead>
<tbody>${rows || `<tr><td colspan="7">No traces received yet (POST /spans-bulk).</td></tr>`}</tbody></table>`
  )
}

interface Node {
  readonly span: StoredTraceSpan
  readonly depth: number
  /** The parent's `span_id` when that span has not arrived (or the tree loops). */
  readonly missingParent: string | null
}

const byStart = (a: StoredTraceSpan, b: StoredTraceSpan) => {
  const d = BigInt(a.start_time) - BigInt(b.start_time)
  return d < 0n ? -1 : d > 0n ? 1 : a.id - b.id
}

/** The spans in tree order (depth first, siblings by start); spans whose parent is missing are roots. */
const treeOrder = (spans: ReadonlyArray<StoredTraceSpan>): Array<Node> => {
  const ids = new Set(spans.map((s) => s.span_id))
  const children = new Map<string, Array<StoredTraceSpan>>()
  for (const s of spans) {
    if (s.parent_id === null || !ids.has(s.parent_id)) continue
    const list = children.get(s.parent_id)
    if (list === undefined) children.set(s.parent_id, [s])
    else list.push(s)
  }
  const out: Array<Node> = []
  const seen = new Set<number>()
  const visit = (span: StoredTraceSpan, depth: number, missingParent: string | null) => {
    if (seen.has(span.id)) return
    seen.add(span.id)
    out.push({ span, depth, missingParent })
    for (const child of (children.get(span.span_id) ?? []).sort(byStart)) visit(child, depth + 1, null)
  }
  const roots = spans.filter((s) => s.parent_id === null || !ids.has(s.parent_id)).sort(byStart)
  for (const root of roots) visit(root, 0, root.parent_id)
  // Spans in a parent loop are reachable from no root: shown at the top level.
  for (const s of [...spans].sort(byStart)) visit(s, 0, s.parent_id)
  return out
}

const isIo = (key: string) => /(^|[._\s-])(inputs?|outputs?)($|[._\s-])/i.test(key) && !/tokens?/i.test(key)

const ioSection = (span: StoredTraceSpan, log: StoredRequest | undefined): string => {
  if (log !== undefined) {
    return `<div class="grid"><section class="span-input"><h4>Input</h4>${messages(log.input)}</section>
<section class="span-output"><h4>Output</h4>${messages(log.output)}</section></div>`
  }
  const entries = Object.entries(span.attributes).filter(([key]) => isIo(key))
  if (entries.length === 0) return ""
  return `<h4>Inputs / outputs</h4>${entries
    .map(
      ([key, value]) =>
        `<div class="msg span-io"><div class="role">${escapeHtml(key)}</div><pre>${escapeHtml(shown(value))}</pre></div>`
    )
    .join("")}`
}

const attributesTable = (attributes: Readonly<Record<string, unknown>>, cls: string): string => {
  const entries = Object.entries(attributes)
  if (entries.length === 0) return "<p>None.</p>"
  return `<table class="attrs ${cls}"><tbody>${entries
    .map(([key, value]) => `<tr><td>${escapeHtml(key)}</td><td><pre>${escapeHtml(shown(value))}</pre></td></tr>`)
    .join("")}</tbody></table>`
}

const spanDetail = (span: StoredTraceSpan, node: Node, log: StoredRequest | undefined): string => {
  const duration = nanosBetweenMs(span.start_time, span.end_time)
  const fields: Array<[string, string]> = [
    ["Span id", `<code>${escapeHtml(span.span_id)}</code>`],
    [
      "Parent",
      span.parent_id === null
        ? "none (root)"
        : `<code>${escapeHtml(span.parent_id)}</code>${node.missingParent !== null ? " (not received)" : ""}`
    ],
    ["Kind", escapeHtml(kindName(span.kind))],
    [
      "Status",
      `<span class="${escapeHtml(statusName(span.status.status_code))}">${escapeHtml(statusName(span.status.status_code))}</span>${span.status.description ? ` — ${escapeHtml(span.status.description)}` : ""}`
    ],
    ["Start", escapeHtml(nanosToIsoExact(span.start_time))],
    ["End", escapeHtml(nanosToIsoExact(span.end_time))],
    ["Duration", escapeHtml(ms(duration))],
    [
      "Request log",
      span.request_log_id === null
        ? "none"
        : `<a class="request-log-link" href="/requests/${escapeHtml(span.request_log_id)}">#${escapeHtml(span.request_log_id)}</a>${log ? ` ${escapeHtml(log.provider ?? "")}/${escapeHtml(log.model ?? "")}, ${escapeHtml(log.tokens)} tokens` : ""}`
    ]
  ]
  const events =
    span.events.length === 0
      ? ""
      : `<h4>Events (${span.events.length})</h4><pre>${escapeHtml(shown(span.events))}</pre>`
  return `<div class="span-detail">
<dl>${fields.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join("")}</dl>
${ioSection(span, log)}
<h4>Attributes</h4>${attributesTable(span.attributes, "span-attributes")}
${events}
<h4>Resource</h4>${attributesTable(span.resource.attributes, "span-resource")}
</div>`
}

/**
 * One trace: a summary and the span tree as a waterfall (bars placed on the trace's time axis),
 * each span a `<details>` panel. `requestLog` finds the request log of a span.
 */
export const renderTrace = (
  traceId: string,
  spans: ReadonlyArray<StoredTraceSpan>,
  closure: TraceClosure | undefined,
  requestLog: (id: number) => StoredRequest | undefined
): string => {
  const nodes = treeOrder(spans)
  let start = BigInt(spans[0]!.start_time)
  let end = BigInt(spans[0]!.end_time)
  for (const s of spans) {
    if (BigInt(s.start_time) < start) start = BigInt(s.start_time)
    if (BigInt(s.end_time) > end) end = BigInt(s.end_time)
  }
  const total = Number(end - start)
  const percent = (nanos: bigint) => (total <= 0 ? 0 : (Number(nanos) / total) * 100)
  const anchored = new Set<string>()
  const rows = nodes
    .map((node) => {
      const s = node.span
      const left = percent(BigInt(s.start_time) - start)
      const width = total <= 0 ? 100 : Math.max(0, percent(BigInt(s.end_time) - BigInt(s.start_time)))
      const status = statusName(s.status.status_code)
      const anchor = anchored.has(s.span_id) ? "" : ` id="span-${escapeHtml(s.span_id)}"`
      anchored.add(s.span_id)
      const log = s.request_log_id === null ? undefined : requestLog(s.request_log_id)
      return `<details class="span"${anchor} data-span-id="${escapeHtml(s.span_id)}" data-depth="${node.depth}">
<summary><span class="wf-name" style="padding-left:${node.depth * 16}px">${escapeHtml(s.name)}<span class="wf-kind">${escapeHtml(kindName(s.kind))}</span>${node.missingParent !== null ? `<span class="orphan">parent not received</span>` : ""}</span>
<span class="wf-track"><span class="wf-bar ${escapeHtml(status)}" style="left:${left.toFixed(3)}%;width:${Math.min(width, 100 - left).toFixed(3)}%"></span></span>
<span class="wf-dur">${escapeHtml(ms(nanosBetweenMs(s.start_time, s.end_time)))}</span>
<span class="wf-status ${escapeHtml(status)}">${escapeHtml(status)}</span></summary>
${spanDetail(s, node, log)}
</details>`
    })
    .join("\n")
  const root = nodes[0]!.span
  const totalMs = nanosBetweenMs(start.toString(), end.toString())
  const tokens = spans.reduce((n, s) => n + s.tokens, 0)
  const summary: Array<[string, string]> = [
    ["Trace id", `<code>${escapeHtml(traceId)}</code>`],
    ["Start", escapeHtml(nanosToIsoExact(start.toString()))],
    ["Duration", escapeHtml(ms(totalMs))],
    ["Spans", escapeHtml(spans.length)],
    ["Tokens", escapeHtml(tokens)],
    ["Closed", closure ? escapeHtml(closure.created_at) : "no"]
  ]
  return page(
    `Trace ${root.name}`,
    `${STYLE}<p><a href="/traces">← Traces</a></p>
<h2 id="trace-title">${escapeHtml(root.name)}</h2>
<dl id="trace-summary">${summary.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join("")}</dl>
<h3>Spans</h3>
<div class="wf" id="waterfall">
<div class="wf-axis"><span>Span</span><span><span>0 ms</span><span>${escapeHtml(ms(totalMs / 2))}</span><span>${escapeHtml(ms(totalMs))}</span></span><span>Duration</span><span>Status</span></div>
${rows}
</div>`
  )
}
