"""A real SMTP server on loopback for blackout's mail tests (aiosmtpd).

Each message received is written whole to DIR/N.eml, with its envelope in DIR/N.envelope
(JSON: sender, recipients, the authenticated user). Modes that tests need:
  --starttls CERT KEY   offer STARTTLS with this certificate, and require it
  --implicit CERT KEY   TLS from the first byte (smtps)
  --auth USER:PASS      require this login (only over TLS)
  --fail-first N        answer the first N messages 451 (a transient failure)
  --reject              answer every message 550 (a permanent one)
  --hang                never answer DATA (a stuck server)
Prints "ready" on stdout once it listens, then serves until killed.
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out, fail_first, reject, hang):
        self.out = out
        self.fail_first = fail_first
        self.reject = reject
        self.hang = hang
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        with open(os.path.join(self.out, "attempts"), "w") as f:
            f.write(str(self.attempts))
        if self.hang:
            await asyncio.sleep(3600)
        if self.reject:
            return "550 5.7.1 Rejected by policy: test server"
        if self.attempts <= self.fail_first:
            return "451 4.3.0 Try again later: test server"
        n = len([f for f in os.listdir(self.out) if f.endswith(".eml")])
        with open(os.path.join(self.out, f"{n}.eml"), "wb") as f:
            f.write(envelope.original_content or envelope.content)
        user = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        tls = server.transport.get_extra_info("ssl_object") is not None
        with open(os.path.join(self.out, f"{n}.envelope"), "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos, "user": user, "tls": tls}, f)
        return "250 2.0.0 Message accepted"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--starttls", nargs=2)
    p.add_argument("--implicit", nargs=2)
    p.add_argument("--auth")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--reject", action="store_true")
    p.add_argument("--hang", action="store_true")
    a = p.parse_args()

    handler = Handler(a.dir, a.fail_first, a.reject, a.hang)
    kwargs = {}
    if a.starttls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.starttls)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.implicit:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*a.implicit)
        kwargs.update(ssl_context=ctx)
    if a.auth:
        want_user, want_pass = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and data.login.decode() == want_user and data.password.decode() == want_pass
            return AuthResult(success=ok, handled=False, auth_data=data)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=True)
    controller = Controller(handler, hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
