#!/usr/bin/python3
"""A local SMTP server for the tests: tests/fakes/smtp.py MBOX PORTFILE.

Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE), appends every
accepted message to the mbox MBOX, and ends by itself after
FAKE_SMTP_LIFETIME seconds (120). FAKE_SMTP_REFUSE=ADDR refuses that
recipient; FAKE_SMTP_REJECT=N rejects the N-th message (554) after accepting
the ones before it. Runs with Debian's python3-aiosmtpd.
"""
import mailbox
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path):
        self.path = path
        self.count = 0
        self.refuse = os.environ.get('FAKE_SMTP_REFUSE', '')
        self.reject = int(os.environ.get('FAKE_SMTP_REJECT', '0'))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse and address == self.refuse:
            return '550 5.1.1 recipient refused (test)'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        if self.count == self.reject:
            return '554 5.6.0 message rejected (test)'
        box = mailbox.mbox(self.path)
        box.lock()
        # As a list archive keeps it: LF line ends.
        box.add(mailbox.mboxMessage(envelope.original_content.replace(b'\r\n', b'\n')))
        box.flush()
        box.unlock()
        return '250 Message accepted for delivery'


def main():
    mbox, portfile = sys.argv[1], sys.argv[2]
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    ctl = Controller(Sink(mbox), hostname='127.0.0.1', port=port)
    ctl.start()
    with open(portfile + '.tmp', 'w') as f:
        f.write('%d\n' % port)
    os.rename(portfile + '.tmp', portfile)
    time.sleep(float(os.environ.get('FAKE_SMTP_LIFETIME', '120')))
    ctl.stop()


if __name__ == '__main__':
    main()
