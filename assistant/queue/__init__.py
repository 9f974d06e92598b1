"""The staff queue: questions the assistant could not settle, clustered so that one item carries many askers."""
