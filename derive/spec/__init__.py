"""The spec stage: the instructor's files read and validated into typed data.

Owns the spec format (msgspec structs and the rules types cannot state), its error
messages, the whitelist formula parser, and the loaders for every file derive reads.
Imports nothing else of derive: every later stage builds on it."""
