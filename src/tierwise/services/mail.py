"""Email actions: one message per customer, in the customer's language, through SMTP.

The subject and body are the action's texts in the customer's language (the ``language``
column, else the project's), with ``{column}`` fields filled from the customer's attributes
and ``{customer_id}``, ``{from_tier}``, ``{to_tier}`` from the move. Only plain names are
filled (no attribute access or formatting), so a template cannot reach into the program;
``{{`` and ``}}`` write braces. Each message carries the ledger key as its ``Message-ID`` and
``X-Tierwise-Key``, so a resend after a crash can be recognised.
"""

from __future__ import annotations

import email.policy
import os
import re
import smtplib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from tierwise import i18n
from tierwise.errors import DeliveryError, SpecError
from tierwise.i18n import _
from tierwise.spec.actions import EmailSpec, SmtpSpec
from tierwise.store.action_ledger import Entry

#: SMTP line endings; headers up to RFC 5322's 998 characters, so the 64-character key stays on
#: its header's line.
_POLICY = email.policy.SMTP.clone(max_line_length=998)
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")


def render(template: str, fields: Mapping[str, Any]) -> str:
    """``template`` with ``{name}`` filled from ``fields`` (unknown names stay as written)."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) in ("{{", "}}"):
            return m.group(0)[0]
        value = fields.get(m.group(1))
        return m.group(0) if m.group(1) not in fields else ("" if value is None else str(value))

    return _FIELD.sub(one, template)


def message(spec: EmailSpec, smtp: SmtpSpec, entry: Entry, attributes: Mapping[str, Any],
            default_lang: str) -> EmailMessage:
    """The message for one ledger row.

    Raises:
        SpecError: the customer has no address in the ``to`` column.
    """
    address = str(attributes.get(spec.to) or "").strip()
    if not address:
        raise SpecError(_("customer {customer} has no address in column {column}").format(
            customer=entry.customer_id, column=spec.to))
    asked = attributes.get(spec.language) if spec.language else None
    lang = i18n.normalize(str(asked)) if asked else None
    lang = lang or default_lang
    fields = {**{k: v for k, v in attributes.items()}, "customer_id": entry.customer_id,
              "from_tier": entry.from_tier or "", "to_tier": entry.to_tier or ""}
    out = EmailMessage(policy=_POLICY)
    out["From"] = smtp.sender
    out["To"] = address
    out["Subject"] = render(spec.subject.text(lang), fields)
    out["Message-ID"] = f"<{entry.key}@tierwise>"
    out["X-Tierwise-Key"] = entry.key
    out.set_content(render(spec.body.text(lang), fields))
    return out


@contextmanager
def connected(smtp: SmtpSpec) -> Iterator[smtplib.SMTP]:
    """A logged-in SMTP connection (TLS as the project asks)."""
    kind = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
    try:
        server = kind(smtp.host, smtp.port, timeout=smtp.timeout_seconds)
    except OSError as exc:
        raise DeliveryError(_(
            "cannot reach the SMTP server {host}:{port} ({reason}); nothing was sent and the "
            "messages stay due: start the server or correct `smtp:` in tierwise.yaml, then "
            "deliver again").format(host=smtp.host, port=smtp.port, reason=exc)) from exc
    try:
        _log_in(server, smtp)
        yield server
    finally:
        try:
            server.quit()
        except smtplib.SMTPException:
            server.close()


def _log_in(server: smtplib.SMTP, smtp: SmtpSpec) -> None:
    """TLS and the login the project asks for."""
    if smtp.username_env:
        user = os.environ.get(smtp.username_env, "")
        password = os.environ.get(smtp.password_env or "", "")
        if not user or not password:
            raise SpecError(_("set the environment variables {user} and {password} for "
                              "the SMTP login").format(user=smtp.username_env,
                                                       password=smtp.password_env or "-"))
    try:
        if smtp.starttls:
            server.starttls()
        if smtp.username_env:
            server.login(os.environ[smtp.username_env], os.environ[smtp.password_env or ""])
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(_(
            "the SMTP server {host}:{port} refused the connection setup ({reason}); nothing "
            "was sent: check `smtp:` (starttls, ssl) and the login in {user}").format(
            host=smtp.host, port=smtp.port, reason=exc, user=smtp.username_env or "-")) from exc


def send(server: smtplib.SMTP, mail: EmailMessage) -> tuple[str | None, bool]:
    """Send one message: (None, _) when the server took it, else (what went wrong, permanent).

    A 5xx answer (an address refused for good) is permanent; anything else may pass later.
    """
    try:
        server.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        return f"refused: {exc.recipients}", all(c >= 500 for c in codes)
    except smtplib.SMTPResponseException as exc:
        return f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", exc.smtp_code >= 500
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}", False
    return None, False
