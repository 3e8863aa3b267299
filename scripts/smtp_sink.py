#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) for tests and benchmarks, on 127.0.0.1.

    smtp_sink.py OUT_DIR PORT      keeps each message exactly as it arrived (the DATA bytes after
                                   dot-unstuffing, CRLF and all) as OUT_DIR/NNNNNNNN.eml, with its
                                   envelope in NNNNNNNN.json
    smtp_sink.py --discard PORT    accepts and counts only (benchmarks)

Recipients whose local part starts with "reject" are refused with 550 5.1.1.
"""
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller

discard = sys.argv[1] == "--discard"
out, port = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()
count = [0]


class Sink:
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.split("@")[0].lower().startswith("reject"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            count[0] += 1
            name = "%08d" % count[0]
        if not discard:
            with open(os.path.join(out, name + ".tmp"), "wb") as f:
                f.write(envelope.original_content)
            with open(os.path.join(out, name + ".json"), "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
            os.rename(os.path.join(out, name + ".tmp"), os.path.join(out, name + ".eml"))
        return "250 2.0.0 Queued as " + name


controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
threading.Event().wait()
