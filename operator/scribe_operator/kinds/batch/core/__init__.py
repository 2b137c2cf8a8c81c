"""The batch's pure decision core: what to create, what to count, when the batch ends. No I/O, no clock reads."""
