"""The Planner and Coder agents: prompts in, parsed artefacts out (no I/O, no Ray)."""
