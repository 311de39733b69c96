"""Loaded into b4's Python by tools/vmalock send --smtp (PYTHONPATH).

smtplib's sendmail() returns the recipients a server refused when it
accepted the others, and b4 0.12 does not look at them, so a refused
recipient would pass unnoticed. Raise instead, so that the send stops at
that message and tools/vmalock names it.
"""
import smtplib

_sendmail = smtplib.SMTP.sendmail


def _strict_sendmail(self, from_addr, to_addrs, msg, *args, **kwargs):
    refused = _sendmail(self, from_addr, to_addrs, msg, *args, **kwargs)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return refused


smtplib.SMTP.sendmail = _strict_sendmail
