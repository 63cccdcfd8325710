"""Command line of the case screen: serve | init-db | add-user | unlock.

python -m mimamori.casescreen init-db
python -m mimamori.casescreen add-user sato --role caseworker [--display-name 佐藤] < password
python -m mimamori.casescreen unlock sato [--address 10.0.0.5] [--by yamada]
python -m mimamori.casescreen serve [--port N]
"""

from __future__ import annotations

import argparse
import getpass
import sys

import psycopg

from mimamori.casescreen.config import load_config
from mimamori.casescreen.vocab import ROLES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mimamori.casescreen", description="ケース画面 (the case screen)")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web app with uvicorn on 127.0.0.1")
    serve.add_argument("--port", type=int, default=None)
    sub.add_parser("init-db", help="create the casework tables (as role transformer)")
    add = sub.add_parser("add-user", help="create or reset a staff account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=list(ROLES), help="the analyst has no access")
    add.add_argument("--display-name", default=None)
    add.add_argument("--generate", action="store_true", help="generate a password and print it once")
    unlock = sub.add_parser(
        "unlock", help="lift an account lock (and/or an address limit) after failed logins; audited"
    )
    unlock.add_argument("username", nargs="?", help="the staff account to unlock")
    unlock.add_argument("--address", default=None, help="also lift the limit on this client address")
    unlock.add_argument("--by", default=None, help="who unlocks, for the audit trail (default: the OS user)")
    args = parser.parse_args(argv)
    config = load_config()

    if args.command == "unlock":
        from mimamori.casescreen import auth

        if not args.username and not args.address:
            parser.error("unlock needs a USERNAME, --address, or both")
        by = (args.by or getpass.getuser())[:64]
        try:
            with psycopg.connect(config.dsn()) as conn:
                done = auth.unlock(
                    conn,
                    config.casework_schema,
                    username=args.username.lower() if args.username else None,
                    address=args.address,
                    by=by,
                )
        except LookupError:
            print(f"casescreen: no staff account {args.username.lower()!r}", file=sys.stderr)
            return 2
        print(f"casescreen: unlocked {', '.join(done)} (recorded in the audit log as by {by})")
        return 0

    if args.command == "init-db":
        from mimamori.casescreen.schema import init_db

        for table in init_db(config):
            print(f"casescreen: {table} ready")
        return 0

    if args.command == "add-user":
        from mimamori.casescreen import auth

        generated = args.generate or sys.stdin is None
        if generated:
            password = auth.generate_password()
        elif sys.stdin.isatty():
            password = getpass.getpass("パスワード（12文字以上、空なら自動生成）: ")
            generated = not password
            password = password or auth.generate_password()
        else:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                generated, password = True, auth.generate_password()
        try:
            with psycopg.connect(config.dsn()) as conn:
                auth.add_user(
                    conn, config.casework_schema, args.username.lower(), args.role, password, args.display_name
                )
        except ValueError as exc:
            print(f"casescreen: {exc}", file=sys.stderr)
            return 2
        print(f"casescreen: user {args.username.lower()} ({args.role}) saved")
        if generated:
            print(f"password (shown once): {password}")
        return 0

    if args.command == "serve":
        import uvicorn

        from mimamori.casescreen.app import create_app

        uvicorn.run(
            create_app(config),
            host=config.host,
            port=args.port or config.port,
            log_level="info",
            access_log=False,
            proxy_headers=False,
            server_header=False,
        )
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
