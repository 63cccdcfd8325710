"""Sending mail: through Airflow's SMTP connection (locally, the mail catcher on loopback).

Its own module so that the alerts (which compose mails) and the pipeline (which calls the alerts)
do not import each other.
"""

from __future__ import annotations


def send_mail(to: list[str], subject: str, html: str, conn_id: str = "smtp_default") -> None:
    """Send ``html`` to ``to`` with Airflow's SMTP hook (connection ``conn_id``)."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    with SmtpHook(smtp_conn_id=conn_id) as hook:
        hook.send_email_smtp(to=to, subject=subject, html_content=html)
