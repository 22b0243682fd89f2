"""The hosted service: a Ray Serve application over the job store (``c2v serve``).

HTTP replicas (:mod:`c2v.service.routes`) only validate, record and answer. One scheduler
replica (:mod:`c2v.service.scheduler`) starts each queued video as a Ray task
(:mod:`c2v.service.runner`) that runs the same pipeline as the CLI and records its
progress events in the store, and each queued revision of one section as a Ray task of
its own (:mod:`c2v.service.revising`). Nothing lives only in memory: a restart picks
queued and running work up from the store, and it resumes from its case folders.
"""
