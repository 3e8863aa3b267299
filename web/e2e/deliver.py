"""Delivers one customer message (the bytes on stdin) into the browser tests' Dovecot mailbox
with IMAP APPEND, as a mail server's delivery would: postroom then fetches it over IMAP.
Usage: deliver.py PORT < message.eml"""
import imaplib
import sys

port = int(sys.argv[1])
raw = sys.stdin.buffer.read()
imap = imaplib.IMAP4("127.0.0.1", port)
imap.login("support@example.test", "secret")
status, answer = imap.append("INBOX", None, None, raw)
if status != "OK":
    sys.exit(f"APPEND refused: {answer}")
imap.logout()
