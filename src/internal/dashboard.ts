/**
 * The emulator's dashboard: plain server-rendered HTML, every interpolated value escaped.
 */
import type { StoredRequest, StoredTemplate } from "./store.js"

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (value: unknown): string =>
  String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")

const STYLE = `
body{font-family:system-ui,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#1d2430;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline}
header a{color:#9cc4ff}
main{padding:16px 24px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border-bottom:1px solid #e2e5ea;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3}
.tag{display:inline-block;background:#e6efff;border-radius:3px;padding:0 4px;margin:0 2px;font-size:12px}
.SUCCESS{color:#137333}.WARNING{color:#b06000}.ERROR{color:#c5221f}
.msg{background:#fff;border:1px solid #e2e5ea;border-radius:4px;padding:8px;margin:6px 0}
.role{font-weight:600;text-transform:uppercase;font-size:12px;color:#5f6b7a}
pre{white-space:pre-wrap;word-break:break-word;margin:4px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;background:#fff;padding:8px}
dt{font-weight:600}
`

/** A whole dashboard page: the header (navigation) and `body`, which must already be escaped HTML. */
export const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body><header><strong>PromptLayer emulator</strong><a href="/">Requests</a><a href="/traces">Traces</a><a href="/#prompts">Prompt registry</a></header>
<main>${body}</main></body></html>`

const tags = (list: ReadonlyArray<string>) => list.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join("")

const scores = (s: Readonly<Record<string, number>>) =>
  Object.entries(s)
    .map(([name, value]) => `${escapeHtml(name)}: ${escapeHtml(value)}`)
    .join(", ")

/** The home page: logged requests (newest first) and the prompt registry. */
export const renderIndex = (
  requests: ReadonlyArray<StoredRequest>,
  templates: ReadonlyArray<StoredTemplate>
): string => {
  const rows = requests
    .map(
      (r) => `<tr data-request-id="${escapeHtml(r.id)}">
<td><a href="/requests/${escapeHtml(r.id)}">#${escapeHtml(r.id)}</a></td>
<td>${escapeHtml(r.created_at)}</td>
<td>${escapeHtml(r.provider ?? "")}/${escapeHtml(r.model ?? "")}</td>
<td>${tags(r.tags)}</td>
<td class="${escapeHtml(r.status)}">${escapeHtml(r.status)}${r.error_type ? ` (${escapeHtml(r.error_type)})` : ""}</td>
<td>${escapeHtml(r.tokens)}</td>
<td>${escapeHtml(r.latency_ms)} ms</td>
<td>${scores(r.scores)}</td>
</tr>`
    )
    .join("\n")
  const registry = templates
    .map((t) => {
      const labelsByVersion = new Map<number, Array<string>>()
      for (const [label, v] of Object.entries(t.labels))
        labelsByVersion.set(v, [...(labelsByVersion.get(v) ?? []), label])
      const versions = [...t.versions]
        .reverse()
        .map(
          (v) =>
            `<li>v${escapeHtml(v.version)} ${tags(labelsByVersion.get(v.version) ?? [])} ${escapeHtml(v.commit_message ?? "")} <small>${escapeHtml(v.created_at)}</small></li>`
        )
        .join("")
      return `<tr data-template-id="${escapeHtml(t.id)}"><td>${escapeHtml(t.id)}</td><td>${escapeHtml(t.prompt_name)}</td><td>${tags(t.tags)}</td><td><ul>${versions}</ul></td></tr>`
    })
    .join("\n")
  return page(
    "PromptLayer emulator",
    `<h2>Requests (${requests.length})</h2>
<table id="requests"><thead><tr><th>Id</th><th>Time</th><th>Provider/model</th><th>Tags</th><th>Status</th><th>Tokens</th><th>Latency</th><th>Scores</th></tr></thead>
<tbody>${rows || `<tr><td colspan="8">No requests logged yet.</td></tr>`}</tbody></table>
<h2 id="prompts">Prompt registry (${templates.length})</h2>
<table id="templates"><thead><tr><th>Id</th><th>Name</th><th>Tags</th><th>Versions</th></tr></thead>
<tbody>${registry || `<tr><td colspan="4">No templates published yet.</td></tr>`}</tbody></table>`
  )
}

const blockText = (block: unknown): string => {
  if (typeof block !== "object" || block === null) return String(block)
  const b = block as Record<string, unknown>
  return typeof b.text === "string" ? b.text : JSON.stringify(b)
}

/** The messages of a blueprint prompt (chat or completion) as HTML, or "None recorded.". */
export const messages = (prompt: unknown): string => {
  if (typeof prompt !== "object" || prompt === null) return "<p>None recorded.</p>"
  const p = prompt as Record<string, unknown>
  const list = Array.isArray(p.messages)
    ? p.messages
    : Array.isArray(p.content)
      ? [{ role: "prompt", content: p.content }]
      : []
  if (list.length === 0) return "<p>None recorded.</p>"
  return list
    .map((m) => {
      const msg = (typeof m === "object" && m !== null ? m : {}) as Record<string, unknown>
      const content = Array.isArray(msg.content) ? msg.content.map(blockText).join("\n") : blockText(msg.content ?? "")
      const calls = Array.isArray(msg.tool_calls)
        ? `<pre>tool calls: ${escapeHtml(JSON.stringify(msg.tool_calls))}</pre>`
        : ""
      return `<div class="msg"><div class="role">${escapeHtml(msg.role ?? "")}</div><pre>${escapeHtml(content)}</pre>${calls}</div>`
    })
    .join("")
}

/**
 * The detail page of one request: input and output messages, and everything stored; with a link
 * to the trace (and span) it was logged for by `/spans-bulk`, if any.
 */
export const renderRequest = (
  r: StoredRequest,
  trace?: { readonly trace_id: string; readonly span_id: string } | undefined
): string => {
  const fields: Array<[string, unknown]> = [
    ["Logged by", r.kind],
    ["Time", r.created_at],
    ["Provider", r.provider],
    ["Model", r.model],
    ["Function", r.function_name],
    ["Status", r.error_type ? `${r.status} (${r.error_type})` : r.status],
    ["Error", r.error_message],
    ["Tokens", `${r.input_tokens} in / ${r.output_tokens} out`],
    ["Latency", `${r.latency_ms} ms`],
    ["Tags", r.tags.join(", ")],
    [
      "Scores",
      Object.entries(r.scores)
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ")
    ],
    [
      "Metadata",
      Object.entries(r.metadata)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")
    ],
    ["Prompt", r.prompt ? `${r.prompt.name ?? r.prompt.id ?? ""} v${r.prompt.version ?? "?"}` : ""],
    ["Groups", r.group_ids.join(", ")]
  ]
  return page(
    `Request #${r.id}`,
    `<h2 id="request-title">Request #${escapeHtml(r.id)}</h2>
<dl>${fields.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v ?? "")}</dd>`).join("")}</dl>
${trace === undefined ? "" : `<p id="trace-link">Logged for span <code>${escapeHtml(trace.span_id)}</code> of <a href="/traces/${escapeHtml(encodeURIComponent(trace.trace_id))}#span-${escapeHtml(encodeURIComponent(trace.span_id))}">trace ${escapeHtml(trace.trace_id)}</a></p>`}
<div class="grid"><section id="input"><h3>Input</h3>${messages(r.input)}</section>
<section id="output"><h3>Output</h3>${messages(r.output)}</section></div>
<h3>Body</h3><pre id="body">${escapeHtml(JSON.stringify(r.body, null, 2))}</pre>`
  )
}

/** A small not-found page. */
export const renderNotFound = (what: string): string => page("Not found", `<p>${escapeHtml(what)} not found.</p>`)
