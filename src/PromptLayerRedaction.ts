/**
 * Redaction of what the LangChain handler sends to PromptLayer: the option types
 * (`hideInputs`, `hideOutputs`, `mask`) and ready-made maskers for e-mail addresses, payment card
 * numbers and API-key-like secrets, with {@link composeMaskers} to chain them.
 *
 * A masker is a plain function `(text, { path, kind }) => text`, called in the handler's background
 * fiber on every string that leaves the process (never on the LLM call's path). One that throws or
 * returns something other than a string fails closed: the field is sent as {@link REDACTION_FAILED}
 * and counted in `handler.stats().redactionFailures`.
 *
 * @example
 * ```ts
 * import { PromptLayerCallbackHandler, PromptLayerRedaction } from "promptlayer-effect/langchain"
 *
 * const handler = new PromptLayerCallbackHandler({
 *   mask: PromptLayerRedaction.maskCommon,
 *   hideOutputs: (output) => output // or `true` to send none
 * })
 * ```
 *
 * @since 0.3.0
 */

// =============================================================================
// Options
// =============================================================================

/**
 * Where a masked string comes from: a run's or a model call's `input` (messages, prompts, tool
 * arguments, template variables, chain inputs), its `output`, a `metadata` value, the model's
 * `parameters`, an `error` message (or a span's status description), or an `event` attribute.
 *
 * @since 0.3.0
 * @category Models
 */
export type RedactionKind = "input" | "output" | "metadata" | "parameters" | "error" | "event"

/**
 * What a masker is told about the string: its `kind` and its `path` in the body sent
 * (`input.messages[0].content[0].text`, `attributes.function_input.question`,
 * `log_request.metadata.user`, ...).
 *
 * @since 0.3.0
 * @category Models
 */
export interface MaskInfo {
  readonly path: string
  readonly kind: RedactionKind
}

/**
 * A masker: the string to send instead of `value`. Must return a string; anything else (or a throw)
 * sends {@link REDACTION_FAILED} and counts a redaction failure.
 *
 * @since 0.3.0
 * @category Models
 */
export type Masker = (value: string, info: MaskInfo) => string

/**
 * `true` sends {@link HIDDEN} instead of the value; a function returns what to send instead (it
 * must be JSON-serializable; for a model call's prompt, a PromptLayer prompt blueprint).
 *
 * @since 0.3.0
 * @category Models
 */
export type Hide = boolean | ((value: unknown) => unknown)

/**
 * The redaction options of the handler.
 *
 * @since 0.3.0
 * @category Models
 */
export interface RedactionOptions {
  /**
   * Hide inputs: a model call's prompt (messages or prompts) and template variables, a chain's,
   * tool's or retriever's input. `true` sends {@link HIDDEN}; a function gets the value and returns
   * what to send. Default: sent as is.
   */
  readonly hideInputs?: Hide | undefined
  /** Hide outputs (a model's completion, a chain's, tool's or retriever's output), as {@link hideInputs}. */
  readonly hideOutputs?: Hide | undefined
  /**
   * Called on every string of inputs, outputs, metadata values, model parameters, error messages
   * and event attributes (after `hideInputs`/`hideOutputs`), in the background. Not called on
   * tags, names, ids, roles, model and provider names, or object keys. Default: none.
   */
  readonly mask?: Masker | undefined
}

/**
 * What a field becomes when its masker or hide function failed (threw, or returned a value that
 * is not a string / not serializable): the raw value is never sent.
 *
 * @since 0.3.0
 * @category Constants
 */
export const REDACTION_FAILED = "[redaction failed]"

/**
 * What a field hidden by `hideInputs: true` / `hideOutputs: true` becomes.
 *
 * @since 0.3.0
 * @category Constants
 */
export const HIDDEN = "[hidden]"

// =============================================================================
// Maskers
// =============================================================================

/**
 * Chains maskers left to right: each gets the previous one's result.
 *
 * @example
 * ```ts
 * const mask = composeMaskers(maskEmails, (text) => text.replaceAll("Project X", "[project]"))
 * ```
 *
 * @since 0.3.0
 * @category Maskers
 */
export const composeMaskers =
  (...maskers: ReadonlyArray<Masker>): Masker =>
  (value, info) => {
    let text = value
    for (const masker of maskers) text = masker(text, info)
    return text
  }

/** A masker that replaces each match of `pattern` (global) by `replace(match, ...groups)`. */
const replacing =
  (pattern: RegExp, replace: (match: string, ...groups: Array<string>) => string): Masker =>
  (value) =>
    value.replace(pattern, replace as (substring: string, ...args: Array<unknown>) => string)

/** File extensions that follow `@` in retina asset names (`icon@2x.png`), not an address's domain. */
const FILE_TLDS = /^(?:png|jpe?g|gif|svg|webp|avif|ico|bmp|tiff?)$/i

const EMAIL = /(?<![\w.%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w-])/g

const replaceEmails = replacing(EMAIL, (match, tld) => (FILE_TLDS.test(tld ?? "") ? match : "[email]"))

/**
 * Replaces e-mail addresses (`name@domain.tld`) by `[email]`. Not masked: an `@` without a dotted
 * domain (`@mention`, `user@localhost`), package specifiers (`lodash@4.17.21`) and retina asset names
 * (`icon@2x.png`).
 *
 * @since 0.3.0
 * @category Maskers
 */
export const maskEmails: Masker = (value, info) => (value.includes("@") ? replaceEmails(value, info) : value)

/** Luhn's checksum over a string of digits. */
const luhnValid = (digits: string): boolean => {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

// 13–19 digits in one run, or grouped 4-4-4-4(-1..3) / 4-6-4(5) with one consistent separator
// (space or dash); not part of a longer number, a decimal or a dashed id.
const CARD =
  /(?<![\w.-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\w-]|\.\d)/g

/**
 * Replaces payment card numbers by `[card]`: 13 to 19 digits, plain or grouped by spaces or dashes,
 * starting with 2 to 6 (the card networks' ranges) and passing Luhn's check. Not masked: numbers
 * failing Luhn, numbers starting with 0, 1, 7, 8 or 9 (epoch times in milliseconds and nanoseconds
 * start with 1), digits inside a longer number, a decimal or a dashed id (UUIDs), phone numbers.
 *
 * @since 0.3.0
 * @category Maskers
 */
export const maskCardNumbers: Masker = replacing(CARD, (match) => {
  const digits = match.replace(/[ -]/g, "")
  return digits.length >= 13 && digits.length <= 19 && /^[2-6]/.test(digits) && luhnValid(digits) ? "[card]" : match
})

/** Secrets recognized by their prefix: OpenAI/Anthropic, PromptLayer, AWS, GitHub, Slack, Google, Stripe, JWTs. */
const PREFIXED_SECRET = new RegExp(
  [
    /sk-(?:[A-Za-z0-9]+-)*[A-Za-z0-9_-]{20,}/.source,
    /pl_[A-Za-z0-9]{20,}/.source,
    /(?:AKIA|ASIA)[0-9A-Z]{16}/.source,
    /gh[pousr]_[A-Za-z0-9]{30,}/.source,
    /github_pat_[A-Za-z0-9_]{40,}/.source,
    /xox[abposr]-[A-Za-z0-9-]{10,}/.source,
    /AIza[0-9A-Za-z_-]{35}/.source,
    /(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}/.source,
    /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/.source
  ]
    .map((source) => `(?<![A-Za-z0-9_-])${source}(?![A-Za-z0-9_-])`)
    .join("|"),
  "g"
)

const BEARER = /\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/-]{8,}=*/gi

/** Runs of token characters long enough to be a generated secret. */
const LONG_TOKEN = /(?<![A-Za-z0-9_+-])[A-Za-z0-9_+-]{32,}={0,2}(?![A-Za-z0-9_+=-])/g

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Shannon entropy of a string, in bits per character. */
const entropy = (text: string): number => {
  const counts = new Map<string, number>()
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1)
  let bits = 0
  for (const n of counts.values()) {
    const p = n / text.length
    bits -= p * Math.log2(p)
  }
  return bits
}

/**
 * Whether a long run of token characters looks generated: upper case, lower case and digits mixed
 * (so not hex: hashes and UUIDs are lower-case hex), at least 4 digits, and random-looking (entropy
 * of at least 4 bits per character, which identifiers made of words do not reach).
 */
const looksGenerated = (token: string): boolean =>
  !UUID.test(token) &&
  /[A-Z]/.test(token) &&
  /[a-z]/.test(token) &&
  (token.match(/\d/g)?.length ?? 0) >= 4 &&
  entropy(token) >= 4

/**
 * Replaces API-key-like secrets by `[secret]`: keys recognized by their prefix (`sk-…`, `sk-proj-…`,
 * `sk-ant-…`, `pl_…`, `AKIA…`/`ASIA…`, `ghp_…`/`gho_…`/`github_pat_…`, `xoxb-…`, `AIza…`,
 * `sk_live_…`, JWTs `eyJ….eyJ….…`), the credential after `Bearer`/`Basic`/`Token`, and long
 * generated-looking tokens: 32+ characters of `[A-Za-z0-9_+=-]` mixing upper case, lower case and at
 * least 4 digits with an entropy of 4+ bits per character. Not masked: UUIDs, hex hashes (git
 * commits, SHA-256, MD5, in URLs or not), base64 of 31 characters or fewer, identifiers made of words.
 * A generated-looking token in a URL (a signed URL's signature) is masked: when in doubt, a secret.
 *
 * @since 0.3.0
 * @category Maskers
 */
export const maskApiKeys: Masker = (value) =>
  value
    .replace(PREFIXED_SECRET, "[secret]")
    .replace(BEARER, (_match, scheme: string, space: string) => `${scheme}${space}[secret]`)
    .replace(LONG_TOKEN, (token) => (looksGenerated(token) ? "[secret]" : token))

/**
 * The three ready-made maskers together: API keys, then card numbers, then e-mail addresses.
 *
 * @since 0.3.0
 * @category Maskers
 */
export const maskCommon: Masker = composeMaskers(maskApiKeys, maskCardNumbers, maskEmails)
