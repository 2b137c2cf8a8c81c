"""The TranscriptionBatch API: models, parsing, the CRD and the generated API reference."""
