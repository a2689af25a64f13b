/**
 * Publishing the templates and workflows of the emulator's options at start.
 */
import * as Effect from "effect/Effect"
import type * as S from "../../PromptLayerSchema.js"
import { EmulatorError } from "./emulatorError.js"
import { isStoreFailure, type Store, type WorkflowDefinition } from "./store.js"

/** What to publish: `Options.templates` and `Options.workflows`. */
export interface Seed {
  readonly templates?: ReadonlyArray<S.PublishTemplateInput> | undefined
  readonly workflows?: ReadonlyArray<WorkflowDefinition> | undefined
}

const detail = (error: unknown) => (isStoreFailure(error) ? JSON.stringify(error.body) : String(error))

/**
 * Publishes each template and workflow whose name the store does not hold yet (a restored data
 * file keeps its own); the first one refused fails with `EmulatorError` (Options).
 *
 * @example
 * ```ts
 * yield* seedStore(store, { workflows: [{ name: "greet", outputs: { Answer: "Hello {name}" } }] })
 * ```
 */
export const seedStore = (store: Store, seed: Seed): Effect.Effect<void, EmulatorError> =>
  Effect.suspend(() => {
    for (const template of seed.templates ?? []) {
      if (store.templatesList().some((t) => t.prompt_name === template.prompt_name)) continue
      try {
        store.publishTemplate({
          prompt_template: template,
          prompt_version: template,
          release_labels: template.release_labels ?? null
        })
      } catch (error) {
        return Effect.fail(new EmulatorError({ reason: "Options", message: `templates: ${detail(error)}` }))
      }
    }
    for (const workflow of seed.workflows ?? []) {
      if (store.workflowsList().some((w) => w.name === workflow.name)) continue
      try {
        store.publishWorkflow(workflow)
      } catch (error) {
        return Effect.fail(new EmulatorError({ reason: "Options", message: `workflows: ${detail(error)}` }))
      }
    }
    return Effect.void
  })
