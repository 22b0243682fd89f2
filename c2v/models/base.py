"""The base of every model (``Strict``: unknown fields are errors) and the shared limits."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_LECTURE_LINES = 5
MAX_LINE_WORDS = 12  # Code2Video asks for ~10 words; two words of slack before we reject
MAX_LINE_CJK_CHARS = 24  # the prompt asks for 20 characters; the same slack
MAX_NARRATION_CHARS = 400  # one or two spoken sentences per lecture line
MAX_VISUAL_ELEMENTS = 4
MAX_ASSET_BYTES = 5_000_000
_SECTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


SectionId = Annotated[str, Field(pattern=_SECTION_ID.pattern)]
