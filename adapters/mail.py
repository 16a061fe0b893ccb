"""Mail delivery: the outbox table is drained through a `Mailer`; by default, into the log."""

from __future__ import annotations

from typing import Protocol

import structlog
from eventsourcing.postgres import PostgresDatastore

from application.users import Mail

log = structlog.get_logger()


class Mailer(Protocol):
    def send(self, mail: Mail) -> None: ...


class LogMailer:
    """Writes each mail to the log: the default until an SMTP or API mailer is configured."""

    def send(self, mail: Mail) -> None:
        log.info("mail", to=mail.recipient, subject=mail.subject, body=mail.body)


class MailOutbox:
    def __init__(self, datastore: PostgresDatastore, mailer: Mailer) -> None:
        self.datastore = datastore
        self.mailer = mailer

    def deliver(self, limit: int = 100) -> int:
        """Sends queued mails, oldest first; a mail is marked sent in the transaction that locked
        it, so two deliverers never send the same one (SKIP LOCKED)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "SELECT id, tenant_id, recipient, subject, body FROM mail_outbox "
                "WHERE sent_at IS NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (limit,),
            )
            rows = curs.fetchall()
            for row in rows:
                self.mailer.send(
                    Mail(row["tenant_id"], row["recipient"], row["subject"], row["body"])
                )
                curs.execute("UPDATE mail_outbox SET sent_at = now() WHERE id = %s", (row["id"],))
        return len(rows)
