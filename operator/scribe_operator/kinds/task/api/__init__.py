"""The TranscriptionTask API: models, names, parsing, and the kind description the CRD is generated from."""
