"""Command line: ``nao-analysis sources | fetch | build``.

Every user error is printed as one line and the exit status is 2; a build with a failed figure exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys

from nao_analysis.errors import NaoError


def _cmd_sources(args) -> int:
    from nao_analysis.sources import load_registry, status

    if getattr(args, "sources_command", None) == "check":
        from nao_analysis.sources.check import run_check

        return run_check(args.settings, online=args.online)
    if getattr(args, "sources_command", None) == "add":
        from nao_analysis.manage_sources import add_source

        entry = add_source(
            args.id,
            url=args.url,
            file=args.file,
            serves=dict(s.split("=", 1) for s in args.serves or []),
            title=args.title,
            fmt=args.format,
            publisher=args.publisher,
            kind=args.kind,
            copied_from=args.copied_from,
            settings=args.settings,
        )
        print(f"added {entry.id}: {entry.primary.filename} sha256 {entry.primary.sha256} ({entry.primary.bytes:,} bytes)")
        return 0
    if getattr(args, "sources_command", None) == "remove":
        from nao_analysis.manage_sources import remove_source

        removed = remove_source(args.id, settings=args.settings)
        print(f"removed {removed.id}: its entry in the registry and its cached files")
        return 0
    registry = load_registry(args.settings)
    width = max(len(s.id) for s in registry.sources)
    for source in registry.sources:
        kind = "third-party extract" if source.kind == "third_party_extract" else "official"
        # One line per source, whatever a title holds.
        title = source.title.encode("unicode_escape").decode("ascii") if any(c in source.title for c in "\r\n\x00") else source.title
        print(f"{source.id:<{width}}  {status(source, args.settings):<15}  {kind:<19}  {title}")
    return 0


def _cmd_fetch(args) -> int:
    from nao_analysis.sources import fetch, load_registry

    registry = load_registry(args.settings)
    ids = registry.ids() if args.all else args.ids
    if not ids:
        print("nao-analysis fetch: name source ids or use --all", file=sys.stderr)
        return 2
    failures = 0
    for source_id in ids:
        try:
            resolved = fetch(source_id, args.settings, force=args.force, accept_new_hash=args.accept_new_hash)
            print(f"ok       {source_id}  {resolved.path}")
        except NaoError as exc:
            failures += 1
            print(f"missing  {source_id}  {exc}")
    return 1 if failures and not args.all else (0 if not failures else 3)


def _cmd_build(args) -> int:
    import time

    from nao_analysis import build_memo
    from nao_analysis.settings import Settings

    started = time.perf_counter()
    settings = getattr(args, "settings", None) or Settings.from_environment()
    if args.timeout is not None:
        settings = settings.with_changes(notebook_timeout=args.timeout)
    only = [f.strip() for item in args.only for f in item.split(",") if f.strip()] if args.only else None
    if not only and not args.force:
        # Nothing changed since a build that left every figure current: say so without planning again.
        memo = build_memo.recall(settings, args.edition, build_memo.request(settings, args.edition, args.set))
        if memo:
            print(build_memo.format_summary(memo["request"]["edition"], memo["rows"], time.perf_counter() - started))
            return memo["exit_codes"]["strict" if args.strict else "default"]
    from nao_analysis.build_start import start_early

    kernels = "fresh" if args.fresh_kernels else args.kernels
    # The fork server starts before the rest of the build is imported: the first figure waits for it.
    early_start = start_early(settings, args.edition, kernels)
    from nao_analysis.build import build, summary_table

    result = build(
        args.edition, settings, only=only, overrides=args.set, jobs=args.jobs, force=args.force, kernels=kernels, early_start=early_start
    )
    print(summary_table(result))
    return result.exit_code(args.strict)


def _cmd_editions(args) -> int:
    from nao_analysis.editions import list_editions, load_edition

    for name in list_editions(args.settings):
        edition = load_edition(name, settings=args.settings)
        print(f"{name:<16} {'substitute data' if edition.header.substitute_data else 'published inputs':<17} {edition.header.title}")
    return 0


def _cmd_new_edition(args) -> int:
    from nao_analysis.roll import new_edition

    path, needed = new_edition(args.name, base=args.base, years=args.years, overrides=args.set, settings=args.settings)
    print(f"wrote {path}")
    for line in needed:
        print(f"needs: {line}")
    return 0


def _cmd_diff(args) -> int:
    from nao_analysis.report.diff import diff_editions

    html_path, csv_path = diff_editions(args.edition_a, args.edition_b, args.settings)
    print(f"wrote {html_path}\nwrote {csv_path}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nao-analysis", description="Rebuild the figures of the NAO report 'Reducing the harm from illegal drugs' (HC 1864)."
    )
    sub = p.add_subparsers(dest="command", required=True)

    sources = sub.add_parser("sources", help="list every raw source and whether it is cached, in the mirror, downloadable or missing")
    sources_sub = sources.add_subparsers(dest="sources_command")
    add = sources_sub.add_parser("add", help="record a new source by official URL or by a file obtained by hand")
    add.add_argument("id")
    group = add.add_mutually_exclusive_group(required=True)
    group.add_argument("--url")
    group.add_argument("--file")
    add.add_argument(
        "--serves", action="append", metavar="KEY=VALUE", help="parameters this source serves, e.g. year=2022-23 basis=outturn"
    )
    add.add_argument("--title")
    add.add_argument("--format", help="reader format id, e.g. ro3_ods")
    add.add_argument("--publisher")
    check = sources_sub.add_parser("check", help="list every source's download route and its evidence; --online asks each publisher")
    check.add_argument("--online", action="store_true", help="ask each publisher for its file (HEAD or a ranged GET of a few bytes)")
    add.add_argument(
        "--kind", choices=["official", "third_party_extract"], help="the publisher's own file, or someone's copy or extract of it"
    )
    add.add_argument("--copied-from", help="where a third party's copy was taken from (URL or repository@commit:path)")
    remove = sources_sub.add_parser("remove", help="remove a source from the registry and its cached files")
    remove.add_argument("id")
    sources.set_defaults(func=_cmd_sources)

    fetch = sub.add_parser("fetch", help="resolve sources into data/raw (cache -> mirror -> download)")
    fetch.add_argument("ids", nargs="*")
    fetch.add_argument("--all", action="store_true")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    fetch.add_argument("--accept-new-hash", action="store_true", help="accept an official re-release whose sha256 changed, and pin it")
    fetch.set_defaults(func=_cmd_fetch)

    build = sub.add_parser("build", help="run the figure notebooks of an edition")
    build.add_argument("--edition", default=os.environ.get("EDITION", "nao-2023"))
    build.add_argument("--only", action="append", help="comma-separated figure ids, e.g. fig02,fig04 (may be repeated)")
    build.add_argument("--set", action="append", metavar="FIG.PARAM=VALUE", help="override a parameter, e.g. fig02.end_year=2022")
    build.add_argument("--jobs", type=int, default=None, help="notebooks run in parallel (default: the usable cores, plus one)")
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    build.add_argument(
        "--kernels",
        choices=["fork", "fresh"],
        default="fork",
        help="fork: each notebook in a pristine child of a pre-imported parent (default); fresh: start a new kernel per notebook",
    )
    build.add_argument("--fresh-kernels", action="store_true", help="same as --kernels fresh")
    build.add_argument("--timeout", type=float, help="seconds a notebook cell may run before the figure fails (default 600)")
    build.add_argument("--strict", action="store_true", help="exit non-zero when a figure is skipped or a reconciliation fails")
    build.set_defaults(func=_cmd_build)

    editions = sub.add_parser("editions", help="list editions")
    editions.set_defaults(func=_cmd_editions)

    new = sub.add_parser("new-edition", help="roll an edition forward to a new year")
    new.add_argument("name")
    new.add_argument("--from", dest="base", default="nao-2023")
    new.add_argument("--years", type=int, default=1)
    new.add_argument(
        "--set", action="append", metavar="FIG.PARAM=VALUE", help="set a parameter of the new edition, e.g. fig03.base_year=2013-14"
    )
    new.set_defaults(func=_cmd_new_edition)

    diff = sub.add_parser("diff", help="compare two built editions (HTML and CSV)")
    diff.add_argument("edition_a")
    diff.add_argument("edition_b")
    diff.set_defaults(func=_cmd_diff)
    return p


def main(argv: list[str] | None = None) -> int:
    from nao_analysis.settings import Settings

    args = parser().parse_args(argv)
    try:
        # Resolved once, here; every command hands it down.
        args.settings = Settings.from_environment()
    except ValueError as exc:
        print(f"nao-analysis: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except NaoError as exc:
        print(f"nao-analysis: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())


def console() -> None:
    """The ``nao-analysis`` command: :func:`main`, then exit without tearing the interpreter down.

    By the time :func:`main` returns every output is written and closed, and every worker process and
    thread has ended; unloading pandas, matplotlib and nbconvert module by module would only add about
    0.4 s to every command, a no-op build included.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))
