"""Delivers customer mail into the browser tests' Dovecot mailbox with IMAP APPEND, as a mail
server's delivery would: postroom then fetches it over IMAP.
Usage: deliver.py PORT < message.eml     one message, its bytes on stdin
       deliver.py PORT --many N PREFIX   N plain messages "PREFIX 0001" ... from distinct customers"""
import imaplib
import sys

port = int(sys.argv[1])
if len(sys.argv) > 2 and sys.argv[2] == "--many":
    count, prefix = int(sys.argv[3]), sys.argv[4]
    messages = [
        (
            f"From: Customer {n} <customer{n}@example.com>\r\nTo: support@example.test\r\n"
            f"Subject: {prefix} {n:04}\r\nMessage-ID: <{prefix.lower()}-{n}@example.com>\r\n"
            f"Date: Thu, 26 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\nQuestion number {n}.\r\n"
        ).encode()
        for n in range(1, count + 1)
    ]
else:
    messages = [sys.stdin.buffer.read()]
imap = imaplib.IMAP4("127.0.0.1", port)
imap.login("support@example.test", "secret")
for raw in messages:
    status, answer = imap.append("INBOX", None, None, raw)
    if status != "OK":
        sys.exit(f"APPEND refused: {answer}")
imap.logout()
