"""`skillcoach catalog import onet|esco DIR --out FOLDER`: public taxonomies into catalog files.

`onet` and `esco` read the publishers' downloads by header names (`tables`), `common` maps them onto the
catalog's shapes and writes the folder; `cache` keeps the matching indexes beside it so that start-up
does not rebuild them.
"""

from __future__ import annotations

import time
from pathlib import Path

from bot.errors import SkillcoachError


def run_import(settings, args, say) -> int:
    """Read the download, map it, write the folder; print sources, licences and what was written."""
    from bot.catalog import load_catalog
    from bot.taxonomy import common, esco, onet
    from bot.taxonomy.tables import TaxonomyError

    started = time.perf_counter()
    folder = Path(args.dir)
    out = Path(args.out)
    taxonomy = onet.read(folder) if args.source == "onet" else esco.read(folder, args.language)
    only = [c.strip() for c in (args.only or "").split(",") if c.strip()] or None
    org_titles = None
    if args.match_org is not None:
        org_file = args.match_org or settings.org_file
        if not org_file:
            raise TaxonomyError("--match-org needs an organisation file: pass --match-org FILE or set SKILLCOACH_ORG")
        org_titles = common.org_role_titles(org_file)
        if not org_titles:
            raise TaxonomyError(f"--match-org: {org_file} names no roles")
    out_resolved = out.resolve()
    base_dirs = [d for d in settings.extra_catalog_dirs if Path(d).resolve() != out_resolved]
    try:
        base = load_catalog(base_dirs)
    except SkillcoachError as exc:
        raise SkillcoachError(f"the catalog to merge with does not load: {exc}") from None
    result = common.build(taxonomy, base, only=only, org_titles=org_titles)
    summary = common.write(result, taxonomy, out, base_dirs=base_dirs,
                           argv=["catalog", "import", args.source, str(folder), "--out", str(out)])
    say(f"source: {taxonomy.release} — {taxonomy.publisher}")
    say(f"licence: {taxonomy.licence}; attribution written to {out_resolved / 'NOTICE'}")
    for title in result.unmatched_titles:
        say(f"no occupation matched the organisation's role {title!r} (it stays a role of its own)")
    say(f"wrote {out_resolved}: {summary['roles']} roles in {summary['families']} families, "
        f"{summary['new_skills']} new skills, {summary['merged_skills']} merged with skills the catalog has, "
        f"{summary['learning_options']} generic learning options ({time.perf_counter() - started:.1f} s)")
    say(f"use it: SKILLCOACH_CATALOG={out_resolved}")
    return 0
