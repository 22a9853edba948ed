"""Requests and errors in OpenAI's shapes, validated with pydantic so a bad field is named.

    request = ChatRequest.model_validate(body)   # pydantic.ValidationError names the field
    error_body("max_tokens must be at most 2048", status=400, param="max_tokens")
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               413: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error", 500: "server_error"}


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """Plain text of the message; a list of parts keeps its text parts (images are refused)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        parts = []
        for part in self.content:
            if part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise ValueError(f"content part of type {part.get('type')!r} is not supported; send text")
            parts.append(part["text"])
        return "\n".join(parts)


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    n: int = Field(default=1, ge=1, le=1)

    @field_validator("messages")
    @classmethod
    def _has_user_message(cls, value: list[Message]) -> list[Message]:
        if not any(m.role == "user" and m.text().strip() for m in value):
            raise ValueError("no user message with text")
        return value

    def question(self) -> str:
        return next(m.text() for m in reversed(self.messages) if m.role == "user" and m.text().strip()).strip()

    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


def error_body(message: str, *, status: int, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "invalid_request_error"), "param": param, "code": code}}
