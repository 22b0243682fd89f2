"""Evaluation of finished cases: TeachQuiz, AES and efficiency, written to ``PATH/eval/``."""
