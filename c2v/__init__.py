"""c2v: turn a knowledge point into an educational video with LLM-written Manim code."""

__version__ = "0.1.0"
