/** Moved to examples/support/openaiStub.ts (the examples use it too); kept here so existing test imports work. */
export * from "../../examples/support/openaiStub.js"
