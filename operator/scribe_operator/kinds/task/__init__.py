"""TranscriptionTask: one transcription, run as one Pod per attempt, retried, and dead-lettered when it cannot
succeed."""
