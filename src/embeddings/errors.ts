import { defineError, ExitCode } from "../errors"

// A provider that cannot embed: its model failed to load, its server is down
// or answered something unusable, or its vectors are not the configured size.
// Always this error (503 over HTTP, exit 5 in the CLI), never a silent switch
// to another provider or to text matching.
export const EmbeddingsUnavailableError = defineError("embeddings_unavailable", { exitCode: ExitCode.prerequisite, status: 503 })
