"""Time doing its work: reminders, escalations, 回访, handovers, the daily report and the weekly digest.

Each job is a pure function of `now` over a snapshot of the ledger (`jobs.model.TicketView`) that returns
`Occurrence`s: the replies to queue and the ticket events to record, keyed by job and period. `jobs.store`
carries an occurrence out in one transaction (events + outbox + a `job_run` row whose unique key makes it
happen once); `jobs.runner` decides what is due at an instant; `jobs.scheduler` only wires APScheduler to it.
"""
