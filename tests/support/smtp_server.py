"""An independent SMTP server for the executors' tests (aiosmtpd).

usage: smtp_server.py PORT OUTFILE
Appends each accepted message to OUTFILE as one JSON line (with the EHLO name the client
gave); rejects any recipient whose
address starts with "reject" with a 550, as a real server rejects an unknown mailbox.
"""
import json
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(json.dumps({
                "helo": session.host_name,
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
            }) + "\n")
        return "250 Message accepted for delivery"


controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
