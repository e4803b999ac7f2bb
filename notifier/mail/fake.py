"""A mailer for other code's unit tests: records what was sent, answers as scripted."""
from __future__ import annotations

from collections import deque
from email.message import EmailMessage

from .delivery import DeliveryOutcome, DeliveryResult
from .message import EmailMessageSpec, InvalidAddress, build_email_message

__all__ = ["FakeMailer"]


class FakeMailer:
    def __init__(self, *, sender: str = "中国创造学会创新工程学分会 <noreply@innoeng.test>") -> None:
        self.sender = sender
        # Every call, in order, whatever its outcome.
        self.attempts: list[EmailMessageSpec] = []
        self.results: list[DeliveryResult] = []
        self.closed = False
        self._scripted: deque[DeliveryResult | DeliveryOutcome] = deque()

    def script(self, *answers: DeliveryResult | DeliveryOutcome) -> None:
        """The next sends answer these, in order; after that every send succeeds."""
        self._scripted.extend(answers)

    @property
    def delivered(self) -> list[EmailMessageSpec]:
        return [spec for spec, result in zip(self.attempts, self.results) if result.is_sent]

    def messages(self) -> list[EmailMessage]:
        """The delivered messages built as the real mailers would build them."""
        return [build_email_message(spec, sender=self.sender) for spec in self.delivered]

    async def send(self, spec: EmailMessageSpec) -> DeliveryResult:
        self.attempts.append(spec)
        result = self._answer(spec)
        self.results.append(result)
        return result

    async def aclose(self) -> None:
        self.closed = True

    def _answer(self, spec: EmailMessageSpec) -> DeliveryResult:
        try:
            recipients = spec.recipients()
        except InvalidAddress as exc:
            return DeliveryResult(DeliveryOutcome.PERMANENT, str(exc), message_id=spec.message_id)
        if self._scripted:
            answer = self._scripted.popleft()
            if isinstance(answer, DeliveryResult):
                return answer
            return DeliveryResult(answer, f"scripted {answer.value}", message_id=spec.message_id)
        return DeliveryResult(
            DeliveryOutcome.SENT,
            "已发送（fake）",
            message_id=spec.message_id,
            smtp_code=250,
            server_reply="250 OK (fake)",
            accepted=recipients,
        )
