#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for depwatch's channel tests.

Listens on 127.0.0.1, prints the bound port as the first line of stdout, and writes one JSON
file per received message into --out: the envelope (mail_from, rcpt_tos), the login used, and
the message as Python's `email` package parses it (subject, content types, bodies).

It exits when its stdin closes (the test process ended, even by a crash) or after --lifetime
seconds, so no server outlives its test.

Install the dependency with Debian's package: apt-get install python3-aiosmtpd (.ci/run does).
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts, charsets = [], []
        text = html = None
        for part in msg.walk():
            ctype = part.get_content_type()
            parts.append(ctype)
            if part.is_multipart():
                continue
            charsets.append(part.get_content_charset())
            if ctype == "text/plain" and text is None:
                text = part.get_content()
            elif ctype == "text/html" and html is None:
                html = part.get_content()
        login = None
        if getattr(session, "authenticated", False) and session.auth_data is not None:
            login = session.auth_data
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": login,
            "subject": str(msg["subject"]) if msg["subject"] is not None else None,
            "from": str(msg["from"]) if msg["from"] is not None else None,
            "to": [str(a) for a in msg.get_all("to", [])],
            "message_id": msg["message-id"],
            "date": msg["date"],
            "content_type": msg.get_content_type(),
            "parts": parts,
            "charsets": charsets,
            "text": text,
            "html": html,
        }
        self.count += 1
        path = os.path.join(self.out, "%04d.json" % self.count)
        # Written then renamed: a reader never sees half a file.
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        os.replace(path + ".tmp", path)
        return "250 OK"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode("utf-8", "replace")
        ok = login == user and auth_data.password.decode("utf-8", "replace") == password
        # handled=False: aiosmtpd itself answers 235 or 535.
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)

    return authenticate


def exit_when_stdin_closes():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--auth", help="user:password; AUTH is then required (without TLS)")
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()
    if os.environ.get("SMTP_SERVER_DEBUG_LOG"):
        import logging

        logging.basicConfig(filename=os.environ["SMTP_SERVER_DEBUG_LOG"], level=logging.DEBUG)
    os.makedirs(args.out, exist_ok=True)
    handler = Handler(args.out)
    kwargs = {}
    if args.auth:
        user, _, password = args.auth.partition(":")
        # The tests exercise login on a loopback relay, which has no TLS.
        kwargs = dict(
            authenticator=make_authenticator(user, password),
            auth_required=True,
            auth_require_tls=False,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="depwatch-test", enable_SMTPUTF8=True, **kwargs),
        host="127.0.0.1",
        port=args.port,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    await asyncio.sleep(args.lifetime)


if __name__ == "__main__":
    asyncio.run(main())
