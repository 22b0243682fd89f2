"""OpenAI's ``/v1/audio/speech`` through the openai SDK: OpenAI, Azure OpenAI, and the
self-hosted servers that speak the same wire (Kokoro-FastAPI, openedai-speech for Piper).

Audio is asked for as WAV (``response_format="wav"``); OpenAI streams it with a length
field of ``0xFFFFFFFF``, which :func:`c2v.speech.audio.decode` reads to the end anyway.
On Azure the model is the deployment name.
"""

from __future__ import annotations

from functools import cached_property

import openai

from c2v.llm.openai_chat import NO_KEY, OPENAI_BASE_URL
from c2v.llm.remote import Fault, stainless_fault
from c2v.llm.settings import ProviderKind
from c2v.speech.base import SpeechRequest
from c2v.speech.remote import RemoteSpeech


class OpenAISpeech(RemoteSpeech):
    name = "openai"
    default_host = "api.openai.com"

    @cached_property
    def client(self) -> openai.OpenAI:
        s = self.connection
        key = s.api_key.get_secret_value() if s.api_key is not None else NO_KEY
        if s.kind is ProviderKind.azure:
            return openai.AzureOpenAI(
                azure_endpoint=s.base_url or "",
                api_version=s.api_version,
                api_key=key,
                timeout=s.timeout_s,
                max_retries=0,
            )
        return openai.OpenAI(
            base_url=s.base_url or OPENAI_BASE_URL, api_key=key, timeout=s.timeout_s, max_retries=0
        )

    def _send(self, request: SpeechRequest) -> bytes:
        response = self.client.audio.speech.create(
            model=request.model, voice=request.voice, input=request.text, response_format="wav"
        )
        return response.read()

    def _fault(self, exc: Exception) -> Fault | None:
        return stainless_fault(exc, openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError)
