"""The hosted service: a Ray Serve application over the job store (``c2v serve``).

HTTP replicas (:mod:`c2v.service.routes`) only validate, record and answer. One scheduler
replica (:mod:`c2v.service.scheduler`) starts each queued video as a Ray task
(:mod:`c2v.service.runner`) that runs the same pipeline as the CLI and records its
progress events in the store. Nothing lives only in memory: a restart picks queued and
running videos up from the store, and they resume from their case folders.
"""
