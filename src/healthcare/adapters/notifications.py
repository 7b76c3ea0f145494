"""Message senders: a log line by default, SMTP from the standard library when configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

log = logging.getLogger("healthcare.notifications")


class LogSender:
    """Logs that a message went out, without its recipient or text (no patient data in logs)."""

    def send(self, recipient: str, subject: str, body: str) -> None:
        log.info("message delivered to the log sender", extra={"subject": subject})


class SmtpSender:
    def __init__(self, host: str, port: int = 587, sender: str = "clinic@localhost",
                 username: str | None = None, password: str | None = None, starttls: bool = True,
                 timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, recipient: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
