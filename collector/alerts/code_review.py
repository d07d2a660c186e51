"""Generated code deployed without human review: a merged change is judged when the SCM
webhooks deliver it (shadowmap.collector.api.scm_webhooks parses the deliveries), and again when
CI's line provenance for it arrives only after the merge (`judge_late`: a pipeline that runs on
the merged branch, or re-run later), so a pull request merged before CI asked is not let through."""
from __future__ import annotations

import json
from collections.abc import Callable

import sqlite_utils

from shadowmap.collector.alerts import repo_activity
from shadowmap.collector.alerts.ai_authorship import is_ai_login
from shadowmap.collector.alerts.findings import BY_ID
from shadowmap.collector.alerts.raising import Evidence, dedupe_key, open_or_bump
from shadowmap.collector.store.sqlite import merged_changes, pr_provenance, scm
from shadowmap.collector.store.sqlite.scm import MAX_TEXT
from shadowmap.detectors.catalog import load_catalog


def record_merge(db: sqlite_utils.Database, change: dict, branch_ref: str, author_key: str,
                 remote: str | None = None) -> int | None:
    """Writer fn: store a merged change, judge it, and raise the finding when it is
    AI-authored without an approving review by someone other than its author (nor an AI).
    AI-authored: markers in the change or its pushed commits, or an AI agent that devices saw
    working on its repository (``remote``, normalised) and head branch before the merge.
    Returns the alert id, or None when the change passes."""
    marked = set(change["ai_agents"])
    marked |= scm.ai_agents_of_pushed_commits(db, change["provider"], change["repo"], branch_ref, change["head_sha"])
    activity = repo_activity.seen_before_merge(db, remote or "", branch_ref, change["merged_at"])
    why = f"AI-authorship markers ({', '.join(sorted(marked))})" if marked else ""
    return _judge(db, change, marked, why, activity, remote, branch_ref, lambda reviewer: reviewer == author_key)


def judge_late(db: sqlite_utils.Database, repo: str, number: int) -> int | None:
    """Writer fn, run when CI's provenance answer for pull request ``number`` of ``repo``
    (host/owner/name) has just been kept: if the change already merged and raised nothing, judge
    it again with that line-level evidence. The agents named when it merged (markers, agents seen
    on its branch) still count; the devices' activity is not looked up again (the head branch is
    not stored with the change). A change that already raised the finding is left as it is (no
    second count for one merge). Returns the alert id raised, or None."""
    stored = merged_changes.merged_change(db, repo, number)
    if stored is None or stored["alert_id"] is not None:
        return None
    named = set(json.loads(stored["ai_agents"] or "[]"))
    change = {k: stored[k] for k in ("provider", "repo", "number", "title", "author", "merged_by", "merged_at",
                                     "merge_sha", "head_sha", "url")} | {"ai_agents": sorted(named)}
    why = f"AI agents named when it merged ({', '.join(sorted(named))})" if named else ""
    return _judge(db, change, named, why, [], repo, "", _author_test(db, change))


def _author_test(db: sqlite_utils.Database, change: dict) -> Callable[[str], bool]:
    """Whether a stored reviewer key is the change's author. GitHub keys reviewers by login;
    GitLab by "id|username", and names an author who did not merge only as "user #<id>"."""
    author = str(change["author"] or "")
    if change["provider"] != "gitlab":
        return lambda reviewer: reviewer == author
    if author.startswith("user #") and author[6:].isdigit():
        key = scm.gitlab_reviewer_key(db, change["repo"], int(change["number"]), int(author[6:]))
        return lambda reviewer: reviewer == key
    return lambda reviewer: reviewer.split("|", 1)[-1] == author


def _judge(db: sqlite_utils.Database, change: dict, marked: set[str], marked_why: str, activity: list,
           remote: str | None, branch_ref: str, is_author: Callable[[str], bool]) -> int | None:
    # line-level evidence, when CI ran `shadowmap provenance` on the pull request: the tools whose
    # sessions wrote its lines; a session's own user is no independent reviewer of them
    provenance = pr_provenance.evidence(db, remote, int(change["number"])) if remote else None
    written = set(provenance["by_tool"]) if provenance and provenance["ai_lines"] else set()
    session_users = {s["user"].casefold() for s in provenance["sessions"] if s["user"]} \
        if written and provenance else set()
    agents = marked | {row["tool_id"] for row in activity} | written
    approvers = [reviewer for reviewer in scm.approving_reviewers(db, change["provider"], change["repo"], change["number"])
                 if not is_author(reviewer) and not is_ai_login(reviewer.split("|", 1)[-1])
                 and reviewer.split("|", 1)[-1].casefold() not in session_users]
    change = {**change, "ai_agents": json.dumps(sorted(agents))}
    scm.save_merged_change(db, change)
    if not agents or approvers:
        return None
    tool_id = sorted(agents)[0]
    # The person accountable: the human author, or whoever merged a bot's change.
    user = change["merged_by"] if is_ai_login(change["author"]) else change["author"]
    user = user or change["author"]
    tool = load_catalog().by_id(tool_id)
    why = [marked_why] if marked_why else []
    if written and provenance:
        why.append(f"{provenance['ai_lines']} of its {provenance['lines']} added lines written in AI sessions "
                   f"({', '.join(sorted(written))}, line provenance)")
    if activity:
        seen = sorted({f"{row['hostname'] or row['device_id']} ({row['tool_id']}, {row['user']})" for row in activity})
        why.append(f"AI agents seen working on {remote} branch {branch_ref[:MAX_TEXT]} on {', '.join(seen)}")
    facts = {"reason": f"{change['repo']}#{change['number']} merged with {' and '.join(why)} "
                       f"and no approving review by someone other than its author",
             "change": change["url"] or f"{change['repo']}#{change['number']}", "merged_by": change["merged_by"]}
    if written:
        facts["provenance"] = provenance
    if activity:
        facts["agent_activity"] = [
            {"device_id": row["device_id"], "hostname": row["hostname"], "tool_id": row["tool_id"], "user": row["user"],
             "process_user": row["process_user"], "first_seen": row["first_seen"], "last_seen": row["last_seen"]}
            for row in activity]
    evidence = Evidence(BY_ID["unreviewed_ai_code"], tool_id, None, tool.vendor if tool else None, user,
                        change["merged_at"], change["merged_at"], count=1,
                        device_ids={row["device_id"] for row in activity},
                        users={user} | {row["user"] for row in activity}
                        | {s["user"] for s in (provenance or {}).get("sessions", []) if written and s["user"]},
                        facts=facts)
    alert_id = open_or_bump(db, dedupe_key("unreviewed_ai_code", tool_id, user), evidence)
    scm.link_change_to_alert(db, change["provider"], change["repo"], change["number"], alert_id)
    return alert_id
