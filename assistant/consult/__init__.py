"""企业环保咨询日: schedule, agenda from the queue, registration / invitations / attendance, outcomes published
into the corpus, 跟踪问效 follow-up, exports and the dashboard. Workflows only — no Flask imports (the console and
the public pages call these)."""
