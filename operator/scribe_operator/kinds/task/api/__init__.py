"""The TranscriptionTask API: models, names, parsing, the CRD and the generated API reference."""
