"""Command-line interface: ``ewaste-tracker`` (also ``python -m ewaste_tracker``).

Every subcommand validates its inputs first and writes nothing when they are bad: the
message names the file, row and column, and the exit code is 2. ``--store`` takes a
GeoPackage path (the embedded default) or a ``postgresql://`` URL (the shared store);
``--as USER`` acts as a registered user of the store. Outputs are staged and moved
into ``--out`` only when the whole job succeeded.

Subcommands
-----------
generated   e-waste generated and stock from put-on-market and lifetimes (sales-lifespan)
run         the whole system (stocks, flows, minerals, indicators) from a folder of CSVs,
            or the default estimate for every country when ``--inputs`` is omitted
template    national submission templates pre-filled with the defaults
submit      validate a national submission and keep it in the store
review      submissions waiting for a decision
send        send a draft for review
accept      accept a submission (reviewer)
reject      reject a submission, with a reason (reviewer)
publish     publish an accepted submission: the estimate then uses it (reviewer)
audit       the audit trail: who did what, when, to which file
user        add, list or disable the store's users (admin)
token       make or revoke API tokens (admin)
migrate     create a store or bring its schema up to date
serve       the HTTP API for submissions, on 127.0.0.1
history     submissions and runs kept for a country
export-run  a stored run to CSV or GeoPackage
map         a country's map (HTML) and a GeoPackage of all its layers
plan-sites  collection-site planning on a road network or a cost matrix
app         the Streamlit app, served on 127.0.0.1
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from ewaste_tracker import settings
from ewaste_tracker.errors import InputError

logger = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


def _number(kind: type, low: float, high: float, what: str) -> Callable[[str], float | int]:
    """An argparse type: a finite ``kind`` within [low, high], else a one-line error."""

    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except (TypeError, ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what
    return parse


YEAR = _number(int, 1900, 2100, "a whole year from 1900 to 2100")
COUNT = _number(int, 1, 1_000_000, "a whole number from 1")
RUN_ID = _number(int, 1, 2**62, "a run id (a whole number from 1; see 'history')")
MINUTES = _number(float, 1e-6, 10_000.0, "minutes, a number above 0 and at most 10000")
SECONDS = _number(float, 1e-3, 86_400.0, "seconds, a number above 0 and at most 86400")
METRES = _number(float, 0.0, 1e6, "metres, a number from 0 to 1000000")
PORT = _number(int, 1, 65535, "a port from 1 to 65535")
MEGABYTES = _number(float, 0.001, 1024.0, "megabytes, above 0 and at most 1024")
WORKERS = _number(int, 1, 64, "a number of worker processes from 1 to 64")
DRAWS = _number(int, 0, 1_000_000, "a number of Monte Carlo draws from 0 to 1000000")
SEED = _number(int, 0, 2**63 - 1, "a seed, a whole number from 0")
BATCH = _number(int, 1, 10_000, "draws per batch, a whole number from 1 to 10000")


def scheduler_address(text: str) -> str:
    """An argparse type: a Dask scheduler address ``tcp://HOST:PORT`` (or ``tls://``)."""
    import re

    if not re.fullmatch(r"(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}", text.strip()):
        raise argparse.ArgumentTypeError(
            f"expected a Dask scheduler address such as tcp://127.0.0.1:8786, got {text!r}"
        )
    return text.strip()


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: <what>``) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def _cmd_generated(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.generated import generated_from_csv

    generated_from_csv(args.pom, args.lifetimes, args.out, until=args.until)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.run import run_to_folder

    run_to_folder(
        args.inputs, args.out, countries=args.countries, until=args.until, store=args.store,
        keep=args.keep, format=args.format, detail=args.detail, reported_mode=args.reported,
        draws=args.draws, seed=args.seed, scheduler=args.scheduler, batch=args.batch,
        workers=args.workers,
    )  # fmt: skip
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.template import write_country_templates

    write_country_templates(args.country, args.out, by=args.by, store=args.store)
    return 0


def _cmd_submit(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.review import submit_file
    from ewaste_tracker.submissions.environment import is_environment_file, submit_environment

    if is_environment_file(args.file):  # ICT operators' energy and scope 1-2 emissions
        env = submit_environment(args.file, store=args.store, submitter=args.submitter)
        print(f"stored: {env}")
        return 0
    print(submit_file(args.file, store=args.store, user=args.user, submitter=args.submitter,
                      draft=args.draft, review=args.review, again=args.again,
                      confirm_outliers=args.confirm_outliers,
                      reconcile=args.reconcile))  # fmt: skip
    return 0


def _cmd_review(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.review import review_text

    print(review_text(store=args.store, user=args.user, country=args.country, state=args.state))
    return 0


def _cmd_act(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.review import act_on_submission

    print(act_on_submission(args.id, args.action, store=args.store, user=args.user,
                            reason=args.reason))  # fmt: skip
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.review import audit_text

    print(audit_text(store=args.store, user=args.user, country=args.country,
                     submission_id=args.id))  # fmt: skip
    return 0


def _cmd_user(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs import users

    if args.user_command == "add":
        print(users.add_user(args.name, args.role, country=args.country, store=args.store,
                             sql_login=args.sql_login, token=args.token))  # fmt: skip
    elif args.user_command == "list":
        print(users.list_users(store=args.store))
    else:
        print(users.disable_user(args.name, store=args.store))
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs import users

    if args.token_command == "create":
        print(users.create_token(args.name, label=args.label, store=args.store))
    else:
        print(users.revoke_tokens(args.name, store=args.store))
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.users import migrate_store

    print(migrate_store(store=args.store))
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.serve import serve

    return serve(store=args.store, host=args.host, port=args.port, workers=args.workers,
                 max_bytes=int(args.max_mb * 1024 * 1024))  # fmt: skip


def _cmd_history(args: argparse.Namespace) -> int:
    from ewaste_tracker.submissions.submit import history

    table = history(args.country, store=args.store)
    text = table.to_string(index=False) if len(table) else f"nothing stored for {args.country}"
    print(printable(text))
    return 0


def printable(text: str) -> str:
    """``text`` with control characters (terminal escape codes) shown as ``\\x..``."""
    return "".join(
        c if c in "\n\t" or unicodedata.category(c)[0] != "C" else f"\\x{ord(c):02x}" for c in text
    )


def _cmd_export_run(args: argparse.Namespace) -> int:
    from ewaste_tracker.submissions.store import export_run

    export_run(args.run_id, args.out, store=args.store)
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.map import country_map_to_folder

    country_map_to_folder(
        args.country,
        args.out,
        year=args.year,
        facilities=args.facilities,
        boundaries=args.boundaries,
        mines=args.mines,
        population=args.population,
        store=args.store,
    )
    return 0


def _cmd_plan_sites(args: argparse.Namespace) -> int:
    from ewaste_tracker.jobs.plan_sites import plan_sites_to_folder

    plan_sites_to_folder(
        network=args.network,
        demand=args.demand,
        candidates=args.candidates,
        costs=args.costs,
        model=args.model,
        p=args.p,
        minutes=args.minutes,
        capacity=args.capacity,
        time_limit=args.time_limit,
        max_snap_m=args.max_snap_m,
        out=args.out,
        country=args.country,
        year=args.year,
        store=args.store,
    )
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from ewaste_tracker.app.launch import run_app

    return run_app(port=args.port)


def store_arg(value: str) -> str | Path:
    """``--store``: a ``postgresql://`` URL stays text; anything else is a GeoPackage path."""
    return settings.store_target(value)


_STORE_HELP = "tracker store: a GeoPackage path or a postgresql:// URL"


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = _Parser(
        prog="ewaste-tracker",
        description="Geospatial e-waste and circular-economy tracker.",
    )
    from ewaste_tracker import __version__

    parser.add_argument("--version", action="version", version=f"ewaste-tracker {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.__class__ = _Parser
        p.set_defaults(handler=handler)
        return p

    p = add(
        "generated",
        _cmd_generated,
        "E-waste generated and stock in use from put-on-market and lifetimes "
        "(UNU sales-lifespan method).",
    )
    p.add_argument(
        "--pom", required=True, type=Path, help="CSV with columns region,product,year,pom_t"
    )
    p.add_argument(
        "--lifetimes",
        required=True,
        type=Path,
        help="CSV with columns product,distribution,shape,scale (optional region, cohort_year)",
    )
    p.add_argument(
        "--out",
        required=True,
        type=Path,
        help="output CSV: region,product,year,generated_t,stock_t",
    )
    p.add_argument(
        "--until", type=YEAR, default=None, help="last year to write (default: the last POM year)"
    )

    p = add(
        "run",
        _cmd_run,
        "Run the whole system from a folder of CSV tables (see README), or the default "
        "estimate for every country when --inputs is omitted.",
    )
    p.add_argument("--inputs", type=Path, default=None, help="folder of input CSV tables")
    p.add_argument(
        "--out", required=True, type=Path,
        help="output folder (new, empty, or written by ewaste-tracker; replaced whole)",
    )  # fmt: skip
    p.add_argument(
        "--countries", default=None,
        help="ISO3 codes to write, comma-separated (default: every region and the aggregates)",
    )  # fmt: skip
    p.add_argument("--until", type=YEAR, default=None, help="last year to model")
    p.add_argument("--format", choices=["parquet", "csv"], default="parquet", help="table format")
    p.add_argument(
        "--detail", choices=["product", "total"], default=None,
        help="flows and stocks by UNU-KEY or summed over products "
        "(default: total for the whole world, product otherwise)",
    )  # fmt: skip
    p.add_argument(
        "--store", type=store_arg, default=None,
        help=f"{_STORE_HELP} (default {settings.store_target()})",
    )  # fmt: skip
    p.add_argument("--keep", action="store_true", help="record the run in the store")
    p.add_argument(
        "--reported", choices=["auto", "reconcile", "targets"], default="auto",
        help="how published submissions enter: reconciled with the model's flows (weighted "
        "least squares, flags implausible values) or met exactly as targets; auto reconciles "
        "the countries whose submission states uncertainties (default auto)",
    )  # fmt: skip
    p.add_argument(
        "--draws", type=DRAWS, default=None,
        help="Monte Carlo draws: every indicator gets p5, p50, p95 (default none)",
    )  # fmt: skip
    p.add_argument("--seed", type=SEED, default=0, help="seed of the draws (default 0)")
    p.add_argument(
        "--scheduler", type=scheduler_address, default=None,
        help="run the draws on this dask.distributed scheduler (tcp://HOST:PORT)",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=WORKERS, default=None,
        help="run the draws on a local Dask cluster of this many worker processes",
    )  # fmt: skip
    p.add_argument("--batch", type=BATCH, default=None, help="draws per engine run (default 4)")

    p = add(
        "template",
        _cmd_template,
        "Write national submission templates (CSV and Excel) pre-filled with the defaults.",
    )
    p.add_argument("--country", required=True, help="ISO3 code, e.g. KEN")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument(
        "--by", choices=["unu_key", "eu6"], default="unu_key", help="product detail of the template"
    )
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    def acting(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)
        p.add_argument(
            "--as", dest="user", default=None, metavar="USER",
            help="act as this registered user of the store (its role and country apply)",
        )  # fmt: skip

    p = add(
        "submit", _cmd_submit,
        "Validate a national submission and keep it in the store. In the embedded GeoPackage "
        "it is then accepted and published at once by the local user (unless --review); in a "
        "shared PostgreSQL store a reviewer accepts and publishes it.",
    )  # fmt: skip
    p.add_argument("file", type=Path, help="submission (CSV or Excel)")
    p.add_argument("--submitter", default=None, help="who submits (default: the OS user)")
    p.add_argument(
        "--confirm-outliers", action="store_true",
        help="accept values beyond the plausibility bounds (kept as warnings with the "
        "submission)",
    )  # fmt: skip
    p.add_argument(
        "--reconcile", choices=["auto", "always", "never"], default="auto",
        help="reconcile the values with the model's balances and report implausible ones "
        "(auto: when the submission states uncertainty_pct)",
    )  # fmt: skip
    p.add_argument("--draft", action="store_true", help="keep it as a draft (send it later)")
    p.add_argument("--review", action="store_true", help="leave it submitted for review")
    p.add_argument(
        "--again", action="store_true",
        help="store it as a new version even if this file is stored already (to go back)",
    )  # fmt: skip
    acting(p)

    p = add("review", _cmd_review, "List the submissions waiting for a decision.")
    p.add_argument("--country", default=None, help="ISO3 code")
    p.add_argument(
        "--state", default=None,
        choices=["draft", "submitted", "accepted", "rejected", "published"],
        help="list the submissions in this state instead",
    )  # fmt: skip
    acting(p)

    for name, help_ in (
        ("send", "Send a draft submission for review."),
        ("accept", "Accept a submitted submission (reviewer)."),
        ("reject", "Reject a submission that is submitted or accepted, with a reason (reviewer)."),
        ("publish", "Publish an accepted submission; the estimate then uses it (reviewer)."),
    ):
        p = add(name, _cmd_act, help_)
        p.set_defaults(action="submit" if name == "send" else name)
        p.add_argument("id", type=RUN_ID, help="submission id (see 'review' or 'history')")
        p.add_argument(
            "--reason", required=name == "reject", default=None,
            help="why (required to reject; shown to the submitter)",
        )  # fmt: skip
        acting(p)

    p = add("audit", _cmd_audit, "Show the audit trail: who did what, when, to which file.")
    p.add_argument("--country", default=None, help="ISO3 code")
    p.add_argument("--id", type=RUN_ID, default=None, help="one submission")
    acting(p)

    p = add("user", _cmd_user, "Add, list or disable the store's users (its admin only).")
    us = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    q = us.add_parser("add", help="register a submitter (with its country) or a reviewer")
    q.add_argument("name", help="lower-case letters, digits and _")
    q.add_argument("--role", required=True, choices=["submitter", "reviewer"])
    q.add_argument("--country", default=None, help="ISO3 code of a submitter's country")
    q.add_argument("--token", action="store_true", help="also make an API token (shown once)")
    q.add_argument(
        "--sql-login", action="store_true",
        help="PostgreSQL: let the user's database role log in (password shown once)",
    )  # fmt: skip
    q.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)
    q = us.add_parser("list", help="list the users")
    q.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)
    q = us.add_parser("disable", help="disable a user (tokens revoked)")
    q.add_argument("name")
    q.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    p = add("token", _cmd_token, "Make or revoke API tokens (the store's admin only).")
    ts = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    q = ts.add_parser("create", help="a new token for a user (shown once, kept hashed)")
    q.add_argument("name")
    q.add_argument("--label", default="", help="what the token is for")
    q.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)
    q = ts.add_parser("revoke", help="revoke every token of a user")
    q.add_argument("name")
    q.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    p = add("migrate", _cmd_migrate, "Create a store or bring its schema up to date (owner).")
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    p = add(
        "serve", _cmd_serve,
        "Serve the HTTP API for submissions (token authentication; OpenAPI at /openapi.json).",
    )  # fmt: skip
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=PORT, default=8000, help="port (default 8000)")
    p.add_argument("--max-mb", type=MEGABYTES, default=20.0, help="largest submission in MiB")
    p.add_argument("--workers", type=WORKERS, default=1, help="worker processes (default 1)")

    p = add("history", _cmd_history, "List the submissions and runs kept for a country.")
    p.add_argument("--country", required=True, help="ISO3 code")
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    p = add("export-run", _cmd_export_run, "Export a stored run to CSV or GeoPackage.")
    p.add_argument("run_id", type=RUN_ID, help="run id (see 'history')")
    p.add_argument("--out", required=True, type=Path, help="output .csv or .gpkg")
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    p = add(
        "map",
        _cmd_map,
        "Write a country's map (HTML, works offline) and a GeoPackage of all its layers.",
    )
    p.add_argument("--country", required=True, help="ISO3 code")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--year", type=YEAR, default=2022, help="year to map")
    p.add_argument(
        "--facilities",
        type=Path,
        default=None,
        help="collection facilities (GeoPackage, GeoJSON, CSV with lon,lat, or .osm)",
    )
    p.add_argument(
        "--boundaries",
        type=Path,
        default=None,
        help="sub-national boundaries (GeoPackage, GeoJSON, Shapefile)",
    )
    p.add_argument("--mines", type=Path, default=None, help="mine points (GeoPackage, CSV, xlsx)")
    p.add_argument(
        "--population",
        type=Path,
        default=None,
        help="population raster (WorldPop, GHSL, GPW GeoTIFF; any CRS) to spread "
        "e-waste over instead of the default grid",
    )
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)

    p = add(
        "plan-sites",
        _cmd_plan_sites,
        "Choose e-waste collection sites on a road network (MCLP, p-median, LSCP).",
    )
    p.add_argument("--network", type=Path, default=None, help=".osm, .osm.bz2 or .osm.pbf")
    p.add_argument(
        "--demand",
        type=Path,
        default=None,
        help="demand points: CSV demand_id,weight[,lon,lat], GeoJSON or GeoPackage; "
        "default: the estimate's e-waste of --country within the network",
    )
    p.add_argument(
        "--country", default=None, help="ISO3 code whose estimated e-waste is the demand"
    )
    p.add_argument("--year", type=YEAR, default=2022, help="year of the estimated demand")
    p.add_argument("--store", type=store_arg, default=None, help=_STORE_HELP)
    p.add_argument(
        "--candidates",
        type=Path,
        default=None,
        help="candidate sites: CSV candidate_id[,lon,lat][,capacity]; "
        "default: a lattice over the network",
    )
    p.add_argument(
        "--costs",
        type=Path,
        default=None,
        help="CSV demand_id,candidate_id,cost (minutes); replaces --network",
    )
    p.add_argument("--model", required=True, choices=["mclp", "pmedian", "lscp"])
    p.add_argument("--p", type=COUNT, default=None, help="number of sites to open")
    p.add_argument("--minutes", type=MINUTES, default=None, help="coverage threshold (minutes)")
    p.add_argument("--capacity", default=None, help="candidate column with capacity (t/yr)")
    p.add_argument("--time-limit", type=SECONDS, default=None, help="solver time limit (s)")
    p.add_argument(
        "--max-snap-m", type=METRES, default=1000.0,
        help="demand and candidates farther than this from the network are unserved, and "
        "listed (default 1000 m)",
    )  # fmt: skip
    p.add_argument("--out", required=True, type=Path, help="output folder")

    p = add("app", _cmd_app, "Open the Streamlit app on 127.0.0.1 (offline).")
    p.add_argument("--port", type=PORT, default=8501, help="port (default 8501)")
    return parser


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose else settings.LOG_LEVEL)
    # the package's loggers at the chosen level; other libraries' (pyogrio logs every layer
    # it writes) only warnings, unless -v asks for everything
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("ewaste_tracker").setLevel(level)


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C: staging folders are removed on the way out."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    0 when the job succeeded; 2 for every operator mistake (bad file, row, column or option,
    an output that would overwrite something, a file that cannot be read or written), with
    one ``error:`` line on standard error naming what to fix; 1 for an internal error (one
    line too; ``-v`` logs the traceback). Nothing is written when the exit code is not 0.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and option errors (2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    _configure_logging(args.verbose, args.quiet)
    settings.tune_allocator()
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        previous = None
    try:
        return int(args.handler(args))
    except InputError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as exc:
        where = getattr(exc, "filename", None)
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        text = f"{where}: {what}" if where else str(exc) or what
        print(f"error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, never a traceback (-v logs it)
        logger.debug("internal error", exc_info=True)
        print(f"error: internal error ({type(exc).__name__}: {exc}); please report it with "
              "the command that caused it (-v shows the traceback)", file=sys.stderr)  # fmt: skip
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
