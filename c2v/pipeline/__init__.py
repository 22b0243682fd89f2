"""The pipeline: one topic from knowledge point to video (see :mod:`c2v.pipeline.driver`)."""

from c2v.pipeline.driver import Pipeline, case_dir_for

__all__ = ["Pipeline", "case_dir_for"]
