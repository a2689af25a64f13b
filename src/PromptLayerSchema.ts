/**
 * Request and response schemas of the PromptLayer REST API, in the wire's snake_case.
 *
 * Request schemas **decode what you pass into what is sent**: timestamps given as a `Date`,
 * epoch milliseconds (or seconds, below 1e11) or an ISO string decode to an ISO string; ids must
 * be positive integers; a score an integer 0–100; metadata a string → string record.
 * Response schemas accept the extra fields the server adds and keep them.
 *
 * The same schemas are used by the client, the emulator and the in-memory test layer.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as SchemaGetter from "effect/SchemaGetter"
import * as SchemaIssue from "effect/SchemaIssue"

// =============================================================================
// Building blocks
// =============================================================================

const Extra = Schema.Record(Schema.String, Schema.Unknown)

/**
 * A positive integer id (`request_id`, `group_id`, template id).
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const Id = Schema.Int.check(Schema.isGreaterThan(0)).annotate({
  identifier: "Id",
  message: "expected a positive integer id"
})

/**
 * A non-empty string (names of prompts and templates).
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const Name = Schema.String.check(
  Schema.isTrimmed({ message: "expected no surrounding spaces" }),
  Schema.isMinLength(1, { message: "expected a non-empty name" })
)

/**
 * Metadata: string keys and string values, as the server requires.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const Metadata = Schema.Record(Schema.String, Schema.String).annotate({
  identifier: "Metadata",
  message: "expected metadata as an object of string keys and string values"
})

/**
 * An integer score from 0 to 100.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const Score = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 100 })).annotate({
  identifier: "Score",
  message: "expected an integer score from 0 to 100"
})

/**
 * Parses a timestamp given as a `Date`, a number (epoch milliseconds; values below 1e11 are taken
 * as epoch seconds, as the Python SDK sends) or a date string, into a `Date`. Undefined for
 * anything else.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const parseTimestamp = (input: unknown): Date | undefined => {
  let date: Date | undefined
  if (input instanceof Date) date = new Date(input.getTime())
  else if (typeof input === "number" && Number.isFinite(input)) date = new Date(input < 1e11 ? input * 1000 : input)
  else if (typeof input === "string" && input.trim() !== "") {
    const trimmed = input.trim()
    if (/^-?\d+(\.\d+)?$/.test(trimmed)) return parseTimestamp(Number(trimmed))
    // The server echoes ISO strings without a zone: read them as UTC.
    const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) || !trimmed.includes("T") ? trimmed : `${trimmed}Z`
    date = new Date(zoned)
  }
  return date !== undefined && !Number.isNaN(date.getTime()) ? date : undefined
}

/**
 * A timestamp: decodes a `Date`, epoch number or date string into an ISO-8601 string.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const Timestamp = Schema.Union([Schema.Date, Schema.Number, Schema.String])
  .pipe(
    Schema.decodeTo(Schema.String, {
      decode: SchemaGetter.transformEffect((input: Date | number | string) => {
        const date = parseTimestamp(input)
        return date === undefined
          ? Effect.fail(
              new SchemaIssue.InvalidValue(
                { message: "expected a Date, epoch milliseconds or an ISO-8601 date string" },
                input
              )
            )
          : Effect.succeed(date.toISOString())
      }),
      encode: SchemaGetter.passthroughSupertype()
    })
  )
  .annotate({ identifier: "Timestamp" })

/**
 * A content block of a blueprint message (`{ type: "text", text }`, `{ type: "image_url", ... }`, ...).
 *
 * @since 0.1.0
 * @category Prompts
 */
export const ContentBlock = Schema.StructWithRest(Schema.Struct({ type: Schema.String }), [Extra]).annotate({
  identifier: "ContentBlock"
})

/**
 * A tool call of an assistant message in blueprint format.
 *
 * @since 0.1.0
 * @category Prompts
 */
export const ToolCall = Schema.StructWithRest(
  Schema.Struct({
    id: Schema.String,
    type: Schema.Literal("function"),
    function: Schema.Struct({ name: Schema.String, arguments: Schema.String })
  }),
  [Extra]
).annotate({ identifier: "ToolCall" })

/**
 * A blueprint message. `content` is an array of content blocks (a plain string is a "Malformed
 * Request" to PromptLayer).
 *
 * @since 0.1.0
 * @category Prompts
 */
export const Message = Schema.StructWithRest(
  Schema.Struct({
    role: Schema.String,
    content: Schema.optional(Schema.NullOr(Schema.Array(ContentBlock))),
    name: Schema.optional(Schema.NullOr(Schema.String)),
    tool_calls: Schema.optional(Schema.NullOr(Schema.Array(ToolCall))),
    tool_call_id: Schema.optional(Schema.NullOr(Schema.String)),
    input_variables: Schema.optional(Schema.Array(Schema.String)),
    template_format: Schema.optional(Schema.String)
  }),
  [Extra]
).annotate({ identifier: "Message" })

/**
 * A chat prompt in blueprint format.
 *
 * @since 0.1.0
 * @category Prompts
 */
export const ChatPrompt = Schema.StructWithRest(
  Schema.Struct({
    type: Schema.Literal("chat"),
    messages: Schema.Array(Message),
    input_variables: Schema.optional(Schema.Array(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "ChatPrompt" })

/**
 * A completion prompt in blueprint format.
 *
 * @since 0.1.0
 * @category Prompts
 */
export const CompletionPrompt = Schema.StructWithRest(
  Schema.Struct({
    type: Schema.Literal("completion"),
    content: Schema.Array(ContentBlock),
    input_variables: Schema.optional(Schema.Array(Schema.String)),
    template_format: Schema.optional(Schema.String)
  }),
  [Extra]
).annotate({ identifier: "CompletionPrompt" })

/**
 * A prompt in blueprint format: chat or completion.
 *
 * @since 0.1.0
 * @category Prompts
 */
export const Prompt = Schema.Union([ChatPrompt, CompletionPrompt]).annotate({ identifier: "Prompt" })

/**
 * @since 0.1.0
 * @category Prompts
 */
export type Prompt = typeof Prompt.Type

/**
 * `SUCCESS`, `WARNING` or `ERROR`.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const RequestStatus = Schema.Literals(["SUCCESS", "WARNING", "ERROR"])

/**
 * The error types PromptLayer accepts with a `status` of `WARNING` or `ERROR`.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const ErrorType = Schema.Literals([
  "PROVIDER_RATE_LIMIT",
  "PROVIDER_QUOTA_LIMIT",
  "PROVIDER_PARTIAL_RESPONSE",
  "VARIABLE_MISSING_OR_EMPTY",
  "PROVIDER_TIMEOUT",
  "PROVIDER_AUTH_ERROR",
  "PROVIDER_ERROR",
  "TEMPLATE_RENDER_ERROR",
  "UNKNOWN_ERROR"
])

/**
 * Which statuses each error type may be sent with (promptlayer-api.md §3.2).
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const errorTypeStatuses: Readonly<Record<typeof ErrorType.Type, ReadonlyArray<"WARNING" | "ERROR">>> = {
  PROVIDER_RATE_LIMIT: ["WARNING", "ERROR"],
  PROVIDER_QUOTA_LIMIT: ["WARNING", "ERROR"],
  PROVIDER_PARTIAL_RESPONSE: ["WARNING"],
  VARIABLE_MISSING_OR_EMPTY: ["WARNING"],
  PROVIDER_TIMEOUT: ["ERROR"],
  PROVIDER_AUTH_ERROR: ["ERROR"],
  PROVIDER_ERROR: ["ERROR"],
  TEMPLATE_RENDER_ERROR: ["ERROR"],
  UNKNOWN_ERROR: ["WARNING", "ERROR"]
}

const Tags = Schema.Array(Schema.String)
const Variables = Schema.Record(Schema.String, Schema.Unknown)
const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const Params = Schema.Record(Schema.String, Schema.Unknown)

// =============================================================================
// Logging
// =============================================================================

/**
 * Body of `POST /log-request`: a request already in blueprint format.
 *
 * @since 0.1.0
 * @category Logging
 */
export const LogRequestBody = Schema.Struct({
  provider: Schema.String,
  model: Schema.String,
  input: Prompt,
  output: Prompt,
  request_start_time: Timestamp,
  request_end_time: Timestamp,
  parameters: Schema.optional(Params),
  tags: Schema.optional(Tags),
  metadata: Schema.optional(Metadata),
  prompt_name: Schema.optional(Schema.NullOr(Schema.String)),
  prompt_id: Schema.optional(Schema.NullOr(Id)),
  prompt_version_number: Schema.optional(Schema.NullOr(Id)),
  prompt_input_variables: Schema.optional(Variables),
  input_tokens: Schema.optional(NonNegativeInt),
  output_tokens: Schema.optional(NonNegativeInt),
  price: Schema.optional(Schema.Number.check(Schema.isGreaterThanOrEqualTo(0))),
  function_name: Schema.optional(Schema.String),
  score: Schema.optional(Score),
  score_name: Schema.optional(Schema.NullOr(Schema.String)),
  api_type: Schema.optional(Schema.NullOr(Schema.String)),
  status: Schema.optional(RequestStatus),
  error_type: Schema.optional(Schema.NullOr(ErrorType)),
  error_message: Schema.optional(Schema.NullOr(Schema.String))
}).annotate({ identifier: "LogRequestBody" })

/**
 * What you pass to `logRequest` (timestamps as `Date`, number or string).
 *
 * @since 0.1.0
 * @category Logging
 */
export type LogRequestInput = typeof LogRequestBody.Encoded

/**
 * Response of `POST /log-request` (201). The id key is `id`, not `request_id`.
 *
 * @since 0.1.0
 * @category Logging
 */
export const LogRequestResponse = Schema.StructWithRest(
  Schema.Struct({
    id: Id,
    prompt_version: Schema.optional(Schema.NullOr(Schema.Unknown)),
    status: Schema.optional(Schema.NullOr(Schema.String)),
    error_type: Schema.optional(Schema.NullOr(Schema.String)),
    error_message: Schema.optional(Schema.NullOr(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "LogRequestResponse" })

/**
 * @since 0.1.0
 * @category Logging
 */
export type LogRequestResponse = typeof LogRequestResponse.Type

const providerResponseMessage = "expected the provider response (an object; {} when the call failed)"

/**
 * Body of `POST /track-request`: a raw provider call.
 *
 * @since 0.1.0
 * @category Logging
 */
export const TrackRequestBody = Schema.Struct({
  function_name: Schema.String,
  kwargs: Params,
  // Required by the server ("{}" on errors): neither absent nor undefined, with the same message.
  request_response: Schema.Unknown.check(
    Schema.makeFilter((value) => value !== undefined, { message: providerResponseMessage })
  ).annotateKey({ messageMissingKey: providerResponseMessage }),
  request_start_time: Timestamp,
  request_end_time: Timestamp,
  provider_type: Schema.optional(Schema.String),
  args: Schema.optional(Schema.Array(Schema.Unknown)),
  tags: Schema.optional(Schema.NullOr(Tags)),
  metadata: Schema.optional(Schema.NullOr(Metadata)),
  prompt_id: Schema.optional(Schema.NullOr(Id)),
  prompt_version: Schema.optional(Schema.NullOr(Id)),
  prompt_input_variables: Schema.optional(Schema.NullOr(Variables)),
  group_id: Schema.optional(Schema.NullOr(Id)),
  return_prompt_blueprint: Schema.optional(Schema.Boolean),
  span_id: Schema.optional(Schema.NullOr(Schema.String)),
  status: Schema.optional(RequestStatus),
  error_type: Schema.optional(Schema.NullOr(ErrorType)),
  error_message: Schema.optional(Schema.NullOr(Schema.String))
}).annotate({ identifier: "TrackRequestBody" })

/**
 * @since 0.1.0
 * @category Logging
 */
export type TrackRequestInput = typeof TrackRequestBody.Encoded

/**
 * Response of `POST /track-request`.
 *
 * @since 0.1.0
 * @category Logging
 */
export const TrackRequestResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    request_id: Id,
    prompt_blueprint: Schema.optional(Schema.NullOr(Schema.Unknown)),
    message: Schema.optional(Schema.NullOr(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "TrackRequestResponse" })

/**
 * @since 0.1.0
 * @category Logging
 */
export type TrackRequestResponse = typeof TrackRequestResponse.Type

// =============================================================================
// Tracking
// =============================================================================

/**
 * Body of `POST /library-track-score`.
 *
 * @since 0.1.0
 * @category Tracking
 */
export const TrackScoreBody = Schema.Struct({
  request_id: Id,
  score: Score,
  name: Schema.optional(Name)
}).annotate({ identifier: "TrackScoreBody" })

/**
 * Body of `POST /library-track-metadata`. A key tracked again replaces its value.
 *
 * @since 0.1.0
 * @category Tracking
 */
export const TrackMetadataBody = Schema.Struct({
  request_id: Id,
  metadata: Metadata
}).annotate({ identifier: "TrackMetadataBody" })

/**
 * Body of `POST /library-track-prompt`: links a request to a registry template.
 *
 * @since 0.1.0
 * @category Tracking
 */
export const TrackPromptBody = Schema.Struct({
  request_id: Id,
  prompt_name: Name,
  prompt_input_variables: Variables,
  version: Schema.optional(Schema.NullOr(Id)),
  label: Schema.optional(Schema.NullOr(Name))
}).annotate({ identifier: "TrackPromptBody" })

/**
 * Body of `POST /track-group`.
 *
 * @since 0.1.0
 * @category Tracking
 */
export const TrackGroupBody = Schema.Struct({
  request_id: Id,
  group_id: Id
}).annotate({ identifier: "TrackGroupBody" })

/**
 * `{ success, message? }`, the answer of the tracking endpoints.
 *
 * @since 0.1.0
 * @category Tracking
 */
export const SuccessResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    message: Schema.optional(Schema.NullOr(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "SuccessResponse" })

/**
 * Response of `POST /create-group`.
 *
 * @since 0.1.0
 * @category Tracking
 */
export const CreateGroupResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    id: Id
  }),
  [Extra]
).annotate({ identifier: "CreateGroupResponse" })

// =============================================================================
// Prompt registry
// =============================================================================

/**
 * Optional body of `POST /prompt-templates/{identifier}`.
 *
 * @since 0.1.0
 * @category Templates
 */
export const GetTemplateParams = Schema.Struct({
  version: Schema.optional(Id),
  label: Schema.optional(Name),
  provider: Schema.optional(Schema.String),
  model: Schema.optional(Schema.String),
  input_variables: Schema.optional(Variables),
  metadata_filters: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  model_parameter_overrides: Schema.optional(Params),
  skip_input_variable_rendering: Schema.optional(Schema.Boolean),
  workspace_id: Schema.optional(Id)
}).annotate({ identifier: "GetTemplateParams" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type GetTemplateParams = typeof GetTemplateParams.Encoded

/**
 * A template as returned by `POST /prompt-templates/{identifier}`.
 *
 * @since 0.1.0
 * @category Templates
 */
export const GetTemplateResponse = Schema.StructWithRest(
  Schema.Struct({
    id: Id,
    prompt_name: Schema.String,
    prompt_template: Prompt,
    version: Schema.optional(Schema.NullOr(Schema.Int)),
    tags: Schema.optional(Schema.NullOr(Tags)),
    workspace_id: Schema.optional(Schema.NullOr(Schema.Int)),
    commit_message: Schema.optional(Schema.NullOr(Schema.String)),
    metadata: Schema.optional(Schema.NullOr(Params)),
    llm_kwargs: Schema.optional(Schema.NullOr(Schema.Unknown)),
    snippets: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown))),
    warning: Schema.optional(Schema.NullOr(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "GetTemplateResponse" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type GetTemplateResponse = typeof GetTemplateResponse.Type

/**
 * What you pass to `templates.publish`. The client sends it as PromptLayer expects:
 * `{ prompt_template: body, prompt_version: body, release_labels }`.
 *
 * @since 0.1.0
 * @category Templates
 */
export const PublishTemplateBody = Schema.StructWithRest(
  Schema.Struct({
    prompt_name: Name,
    prompt_template: Prompt,
    tags: Schema.optional(Tags),
    commit_message: Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(72)))),
    metadata: Schema.optional(Schema.NullOr(Params)),
    release_labels: Schema.optional(Schema.NullOr(Schema.Array(Name)))
  }),
  [Extra]
).annotate({ identifier: "PublishTemplateBody" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type PublishTemplateInput = typeof PublishTemplateBody.Encoded

/**
 * The wire body of `POST /rest/prompt-templates`.
 *
 * @since 0.1.0
 * @category Templates
 */
export const PublishTemplateWire = Schema.Struct({
  prompt_template: PublishTemplateBody,
  prompt_version: PublishTemplateBody,
  release_labels: Schema.optional(Schema.NullOr(Schema.Array(Name)))
}).annotate({ identifier: "PublishTemplateWire" })

/**
 * Response of `POST /rest/prompt-templates` (201).
 *
 * @since 0.1.0
 * @category Templates
 */
export const PublishTemplateResponse = Schema.StructWithRest(
  Schema.Struct({
    id: Id,
    prompt_name: Schema.String,
    prompt_template: Prompt,
    tags: Schema.optional(Schema.NullOr(Tags)),
    commit_message: Schema.optional(Schema.NullOr(Schema.String)),
    metadata: Schema.optional(Schema.NullOr(Params)),
    release_labels: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
    prompt_version_id: Schema.optional(Schema.NullOr(Schema.Int)),
    version_number: Schema.optional(Schema.NullOr(Schema.Int))
  }),
  [Extra]
).annotate({ identifier: "PublishTemplateResponse" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type PublishTemplateResponse = typeof PublishTemplateResponse.Type

/**
 * Query of `GET /prompt-templates`.
 *
 * @since 0.1.0
 * @category Templates
 */
export const ListTemplatesParams = Schema.Struct({
  page: Schema.optional(Id),
  per_page: Schema.optional(Id),
  label: Schema.optional(Name),
  name: Schema.optional(Schema.String),
  tags: Schema.optional(Tags),
  status: Schema.optional(Schema.Literals(["active", "deleted", "all"]))
}).annotate({ identifier: "ListTemplatesParams" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type ListTemplatesParams = typeof ListTemplatesParams.Encoded

/**
 * One template of a `GET /prompt-templates` page (the latest version, or the labelled one).
 *
 * @since 0.1.0
 * @category Templates
 */
export const TemplateListItem = Schema.StructWithRest(
  Schema.Struct({
    id: Id,
    prompt_name: Schema.String,
    prompt_template: Prompt,
    version: Schema.optional(Schema.NullOr(Schema.Int)),
    tags: Schema.optional(Schema.NullOr(Tags)),
    commit_message: Schema.optional(Schema.NullOr(Schema.String)),
    metadata: Schema.optional(Schema.NullOr(Params))
  }),
  [Extra]
).annotate({ identifier: "TemplateListItem" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type TemplateListItem = typeof TemplateListItem.Type

/**
 * A page of `GET /prompt-templates`.
 *
 * @since 0.1.0
 * @category Templates
 */
export const ListTemplatesResponse = Schema.StructWithRest(
  Schema.Struct({
    items: Schema.Array(TemplateListItem),
    page: Schema.Int,
    per_page: Schema.Int,
    pages: Schema.optional(Schema.Int),
    total: Schema.Int,
    has_next: Schema.Boolean,
    has_prev: Schema.optional(Schema.Boolean),
    next_num: Schema.optional(Schema.NullOr(Schema.Int)),
    prev_num: Schema.optional(Schema.NullOr(Schema.Int))
  }),
  [Extra]
).annotate({ identifier: "ListTemplatesResponse" })

/**
 * @since 0.1.0
 * @category Templates
 */
export type ListTemplatesResponse = typeof ListTemplatesResponse.Type

// =============================================================================
// Workflows
// =============================================================================

/**
 * Any JSON value: null, a boolean, a number, a string, an array or an object of JSON values.
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const JsonValue: Schema.Codec<JsonValue> = Schema.Union([
  Schema.Null,
  Schema.Boolean,
  Schema.Number,
  Schema.String,
  Schema.Array(Schema.suspend(() => JsonValue)),
  Schema.Record(
    Schema.String,
    Schema.suspend(() => JsonValue)
  )
]).annotate({ identifier: "JsonValue" })

/**
 * @since 0.1.0
 * @category Building blocks
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

/**
 * The workflow (agent) of `GET /workflows/{workflow_id_or_name}`.
 *
 * @since 0.1.0
 * @category Workflows
 */
export const Workflow = Schema.StructWithRest(
  Schema.Struct({
    id: Id,
    name: Schema.String,
    workspace_id: Schema.optional(Schema.NullOr(Schema.Int)),
    user_id: Schema.optional(Schema.NullOr(Schema.Int)),
    is_draft: Schema.optional(Schema.Boolean),
    is_deleted: Schema.optional(Schema.Boolean)
  }),
  [Extra]
).annotate({ identifier: "Workflow" })

/**
 * Response of `GET /workflows/{workflow_id_or_name}`: `{ success, workflow: { id, name, ... } }`
 * (the shape the Python SDK reads to resolve a workflow name to its id).
 *
 * @since 0.1.0
 * @category Workflows
 */
export const WorkflowResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    workflow: Workflow
  }),
  [Extra]
).annotate({ identifier: "WorkflowResponse" })

/**
 * @since 0.1.0
 * @category Workflows
 */
export type WorkflowResponse = typeof WorkflowResponse.Type

/**
 * Body of `POST /workflows/{workflow_name_or_id}/run`. `workflow_label_name` and
 * `workflow_version_number` are mutually exclusive; with a `callback_url` the server answers 202.
 * (The Python SDK also sends `channel_name_suffix`, kept as an extra field.)
 *
 * @since 0.1.0
 * @category Workflows
 */
export const RunWorkflowBody = Schema.StructWithRest(
  Schema.Struct({
    input_variables: Schema.optional(Schema.NullOr(Variables)),
    metadata: Schema.optional(Schema.NullOr(Metadata)),
    workflow_label_name: Schema.optional(Schema.NullOr(Name)),
    workflow_version_number: Schema.optional(Schema.NullOr(Id)),
    return_all_outputs: Schema.optional(Schema.NullOr(Schema.Boolean)),
    callback_url: Schema.optional(Schema.NullOr(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "RunWorkflowBody" })

/**
 * @since 0.1.0
 * @category Workflows
 */
export type RunWorkflowInput = typeof RunWorkflowBody.Encoded

/**
 * Response of `POST /workflows/{workflow_name_or_id}/run` (201; 202 with a `callback_url`): the id
 * of the execution whose results `GET /workflow-version-execution-results` returns.
 *
 * @since 0.1.0
 * @category Workflows
 */
export const RunWorkflowResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    message: Schema.String,
    warning: Schema.optional(Schema.NullOr(Schema.String)),
    workflow_version_execution_id: Id
  }),
  [Extra]
).annotate({ identifier: "RunWorkflowResponse" })

/**
 * @since 0.1.0
 * @category Workflows
 */
export type RunWorkflowResponse = typeof RunWorkflowResponse.Type

/**
 * The result of one node of a workflow execution. `status` is `SUCCESS` or `FAILURE` once
 * finished (`QUEUED` or `RUNNING` before).
 *
 * @since 0.1.0
 * @category Workflows
 */
export const WorkflowNodeResult = Schema.StructWithRest(
  Schema.Struct({
    status: Schema.String,
    value: Schema.Unknown,
    error_message: Schema.optional(Schema.NullOr(Schema.String)),
    raw_error_message: Schema.optional(Schema.NullOr(Schema.String)),
    is_output_node: Schema.Boolean
  }),
  [Extra]
).annotate({ identifier: "WorkflowNodeResult" })

/**
 * The results of every node of an execution, by node name (`return_all_outputs=true`).
 *
 * @example
 * ```ts
 * // { "Node 1": { status: "SUCCESS", value: "AAA", error_message: null, raw_error_message: null, is_output_node: true } }
 * ```
 *
 * @since 0.1.0
 * @category Workflows
 */
export const WorkflowNodeResults = Schema.Record(Schema.String, WorkflowNodeResult).annotate({
  identifier: "WorkflowNodeResults"
})

/**
 * Response of `GET /workflow-version-execution-results?workflow_version_execution_id=&return_all_outputs=`:
 * the node results ({@link WorkflowNodeResults}) with `return_all_outputs=true`, otherwise the
 * final output, which may be any JSON value (`"AAA"`). 200 when finished, 202 while running.
 *
 * @since 0.1.0
 * @category Workflows
 */
export const WorkflowResultsResponse = Schema.Union([WorkflowNodeResults, JsonValue]).annotate({
  identifier: "WorkflowResultsResponse"
})

/**
 * @since 0.1.0
 * @category Workflows
 */
export type WorkflowResultsResponse = typeof WorkflowResultsResponse.Type

/**
 * Response of `POST /ws-token-request-library?capability=<channel>` (201): a token for PromptLayer's
 * Centrifugo WebSocket, with the channels it may subscribe to (`capability`, channel → operations).
 *
 * @since 0.1.0
 * @category Workflows
 */
export const WsTokenResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    token_details: Schema.StructWithRest(
      Schema.Struct({
        token: Schema.String,
        expires: Schema.Number,
        issued: Schema.Number,
        capability: Schema.Record(Schema.String, Schema.Array(Schema.String)),
        clientId: Schema.optional(Schema.NullOr(Schema.String))
      }),
      [Extra]
    )
  }),
  [Extra]
).annotate({ identifier: "WsTokenResponse" })

/**
 * @since 0.1.0
 * @category Workflows
 */
export type WsTokenResponse = typeof WsTokenResponse.Type

// =============================================================================
// Traces (spans)
// =============================================================================

const nanoDigits = /^\d{1,20}$/

/** The digits of a nanosecond time given as a bigint, integer, digit string or `Date`; undefined if it is none of them. */
const nanoDigitsOf = (input: bigint | number | string | Date): string | undefined => {
  let digits: string | undefined
  if (typeof input === "bigint") digits = input >= 0n ? input.toString() : undefined
  else if (typeof input === "number") {
    digits = Number.isInteger(input) && input >= 0 ? BigInt(input).toString() : undefined
  } else if (typeof input === "string") digits = nanoDigits.test(input) ? BigInt(input).toString() : undefined
  else if (!Number.isNaN(input.getTime()) && input.getTime() >= 0) digits = `${input.getTime()}000000`
  return digits === undefined || digits.length > 20 ? undefined : digits
}

/**
 * A span time in **nanoseconds** since the epoch, kept exact: decodes a `bigint`, a non-negative
 * integer `number`, a string of digits or a `Date` (its milliseconds × 10⁶) into a string of digits,
 * which the client writes into the JSON body as an integer (never through a float, so nothing is
 * rounded beyond 2^53).
 *
 * @example
 * ```ts
 * Schema.decodeSync(NanoTime)(1764838000123456789n) // "1764838000123456789"
 * Schema.decodeSync(NanoTime)(new Date(0)) // "0"
 * ```
 *
 * @since 0.2.0
 * @category Traces
 */
export const NanoTime = Schema.Union([Schema.BigInt, Schema.Number, Schema.String, Schema.Date])
  .pipe(
    Schema.decodeTo(Schema.String, {
      decode: SchemaGetter.transformEffect((input: bigint | number | string | Date) => {
        const digits = nanoDigitsOf(input)
        return digits === undefined
          ? Effect.fail(
              new SchemaIssue.InvalidValue(
                {
                  message:
                    "expected nanoseconds since the epoch: a non-negative integer (bigint, number or digit string) or a Date"
                },
                input
              )
            )
          : Effect.succeed(digits)
      }),
      encode: SchemaGetter.passthroughSupertype()
    })
  )
  .annotate({ identifier: "NanoTime" })

/**
 * The kind of a span, in PromptLayer's spelling (`"SpanKind.CLIENT"` for a model call, `"SpanKind.INTERNAL"`
 * for chains, tools and retrievers).
 *
 * @since 0.2.0
 * @category Traces
 */
export const SpanKind = Schema.Literals([
  "SpanKind.CLIENT",
  "SpanKind.CONSUMER",
  "SpanKind.INTERNAL",
  "SpanKind.PRODUCER",
  "SpanKind.SERVER"
]).annotate({ identifier: "SpanKind" })

/**
 * The status code of a span.
 *
 * @since 0.2.0
 * @category Traces
 */
export const StatusCode = Schema.Literals(["StatusCode.ERROR", "StatusCode.OK", "StatusCode.UNSET"]).annotate({
  identifier: "StatusCode"
})

/**
 * `{ status_code, description? }` of a span.
 *
 * @since 0.2.0
 * @category Traces
 */
export const SpanStatus = Schema.Struct({
  status_code: StatusCode,
  description: Schema.optional(Schema.NullOr(Schema.String))
}).annotate({ identifier: "SpanStatus" })

const NonEmpty = Schema.String.check(Schema.isMinLength(1, { message: "expected a non-empty string" }))

/**
 * `{ trace_id, span_id, trace_state }` of a span: OTel-style hex ids (32 hex digits for a trace,
 * 16 for a span, by convention); `trace_state` may be `""`.
 *
 * @since 0.2.0
 * @category Traces
 */
export const SpanContext = Schema.Struct({
  trace_id: NonEmpty,
  span_id: NonEmpty,
  trace_state: Schema.String
}).annotate({ identifier: "SpanContext" })

/**
 * The resource a span comes from: string attributes (`{ "service.name": "my-app" }`) and a schema URL.
 *
 * @since 0.2.0
 * @category Traces
 */
export const SpanResource = Schema.Struct({
  attributes: Schema.Record(Schema.String, Schema.String),
  schema_url: Schema.String
}).annotate({ identifier: "SpanResource" })

/**
 * One span of `POST /spans-bulk`. `log_request` (a `/log-request` body) creates a request log
 * attached to the span; its id comes back in the response's `request_logs` by `span_id`.
 *
 * @since 0.2.0
 * @category Traces
 */
export const Span = Schema.Struct({
  name: Schema.String,
  context: SpanContext,
  kind: SpanKind,
  parent_id: Schema.optional(Schema.NullOr(Schema.String)),
  start_time: NanoTime,
  end_time: NanoTime,
  status: SpanStatus,
  attributes: Params,
  events: Schema.optional(Schema.Array(Params)),
  links: Schema.optional(Schema.Array(Params)),
  resource: SpanResource,
  log_request: Schema.optional(Schema.NullOr(LogRequestBody))
}).annotate({ identifier: "Span" })

/**
 * What you pass as a span (times as `bigint`, integer, digit string or `Date`; log times as for `logRequest`).
 *
 * @since 0.2.0
 * @category Traces
 */
export type SpanInput = typeof Span.Encoded

/**
 * A span after validation: times as digit strings, log times as ISO strings.
 *
 * @since 0.2.0
 * @category Traces
 */
export type Span = typeof Span.Type

/**
 * Body of `POST /spans-bulk`. The server stores the batch atomically: one invalid span fails it all
 * (422). `close_after: true` closes every trace of the batch once stored.
 *
 * @since 0.2.0
 * @category Traces
 */
export const CreateSpansBulk = Schema.Struct({
  spans: Schema.Array(Span),
  close_after: Schema.optional(Schema.Boolean)
}).annotate({ identifier: "CreateSpansBulk" })

/**
 * What you pass to `spans.bulk`.
 *
 * @since 0.2.0
 * @category Traces
 */
export type CreateSpansBulkInput = typeof CreateSpansBulk.Encoded

/**
 * The request log created for a span with a `log_request`: its PromptLayer request `id` by `span_id`.
 *
 * @since 0.2.0
 * @category Traces
 */
export const SpanRequestLog = Schema.StructWithRest(Schema.Struct({ id: Id, span_id: Schema.String }), [
  Extra
]).annotate({
  identifier: "SpanRequestLog"
})

/**
 * Response of `POST /spans-bulk` (201). `rejected_span_ids` / `rejected_trace_ids` /
 * `rejection_reason: "trace_closed"` appear only when spans of closed traces were dropped.
 *
 * @since 0.2.0
 * @category Traces
 */
export const CreateSpansBulkResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    spans: Schema.Array(Params),
    request_logs: Schema.optional(Schema.NullOr(Schema.Array(SpanRequestLog))),
    rejected_span_ids: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
    rejected_trace_ids: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
    rejection_reason: Schema.optional(Schema.NullOr(Schema.String))
  }),
  [Extra]
).annotate({ identifier: "CreateSpansBulkResponse" })

/**
 * @since 0.2.0
 * @category Traces
 */
export type CreateSpansBulkResponse = typeof CreateSpansBulkResponse.Type

/**
 * A trace id as a path parameter: a non-empty string.
 *
 * @since 0.2.0
 * @category Traces
 */
export const TraceId = NonEmpty.annotate({
  identifier: "TraceId",
  message: "expected a non-empty trace id"
})

/**
 * A span of `GET /api/public/v2/traces/{trace_id}` (times as ISO strings there).
 *
 * @since 0.2.0
 * @category Traces
 */
export const TraceSpan = Schema.StructWithRest(
  Schema.Struct({
    span_id: Schema.String,
    name: Schema.optional(Schema.NullOr(Schema.String)),
    parent_id: Schema.optional(Schema.NullOr(Schema.String)),
    request_log_id: Schema.optional(Schema.NullOr(Schema.Int)),
    start_time: Schema.optional(Schema.Unknown),
    end_time: Schema.optional(Schema.Unknown)
  }),
  [Extra]
).annotate({ identifier: "TraceSpan" })

/**
 * Response of `GET /api/public/v2/traces/{trace_id}`.
 *
 * @since 0.2.0
 * @category Traces
 */
export const TraceDetailResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    trace_id: Schema.String,
    spans: Schema.Array(TraceSpan)
  }),
  [Extra]
).annotate({ identifier: "TraceDetailResponse" })

/**
 * @since 0.2.0
 * @category Traces
 */
export type TraceDetailResponse = typeof TraceDetailResponse.Type

/**
 * Response of `POST /api/public/v2/traces/{trace_id}/close` (201); a trace closed already is a 409.
 *
 * @since 0.2.0
 * @category Traces
 */
export const CloseTraceResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.Boolean,
    closure: Schema.optional(
      Schema.NullOr(
        Schema.StructWithRest(
          Schema.Struct({
            trace_id: Schema.optional(Schema.String),
            status: Schema.optional(Schema.String)
          }),
          [Extra]
        )
      )
    )
  }),
  [Extra]
).annotate({ identifier: "CloseTraceResponse" })

/**
 * @since 0.2.0
 * @category Traces
 */
export type CloseTraceResponse = typeof CloseTraceResponse.Type

// =============================================================================
// Errors on the wire
// =============================================================================

/**
 * The error body PromptLayer answers with: `{ success: false, message?, error?, detail? }`.
 *
 * @since 0.1.0
 * @category Errors
 */
export const ErrorResponse = Schema.StructWithRest(
  Schema.Struct({
    success: Schema.optional(Schema.Boolean),
    message: Schema.optional(Schema.Unknown),
    error: Schema.optional(Schema.Unknown),
    detail: Schema.optional(Schema.Unknown)
  }),
  [Extra]
).annotate({ identifier: "ErrorResponse" })

// =============================================================================
// Content blocks
// =============================================================================

/**
 * Every content block `type` PromptLayer's OpenAPI document defines for blueprint messages (the
 * `type` discriminator of a message's `content` and of a completion prompt's `content`). The real
 * server answers 422 for any other type; the handler maps LangChain's blocks onto these.
 *
 * @example
 * ```ts
 * import { PromptLayerSchema } from "promptlayer-effect"
 *
 * PromptLayerSchema.CONTENT_BLOCK_TYPES.has("text") // true
 * PromptLayerSchema.CONTENT_BLOCK_TYPES.has("tool_use") // false: Anthropic's wire type, not a blueprint block
 * ```
 *
 * @since 0.1.0
 * @category Building blocks
 */
export const CONTENT_BLOCK_TYPES: ReadonlySet<string> = new Set([
  "text",
  "thinking",
  "code",
  "image_url",
  "media",
  "media_variable",
  "output_media",
  "server_tool_use",
  "web_search_tool_result",
  "code_execution_result",
  "mcp_list_tools",
  "mcp_call",
  "mcp_approval_request",
  "mcp_approval_response",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output"
])
