"""TranscriptionBatch: one TranscriptionTask per object under an S3 prefix, with a summary when they all end."""
