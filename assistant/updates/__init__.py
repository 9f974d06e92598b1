"""政策速递: what changed in a regulation (the versions and article diffs recorded at ingest,
:mod:`assistant.ingest.versions`), who needs to know (:mod:`.audience`), the notices sent to them (:mod:`.notices`),
topic subscriptions (:mod:`.subscriptions`) and the staff's 解读 (:mod:`.changes`)."""
