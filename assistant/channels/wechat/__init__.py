"""The WeChat Official Account channel: protocol (signatures, XML, encryption, outbound API), accounts, menu,
reply formatting, the channel itself (inbox, dialogue, outbox, recovery) and the webhook blueprint (views)."""
