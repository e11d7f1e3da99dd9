"""Use cases shared by the chat handlers, the CLI and the tests. See docs/architecture.md."""
