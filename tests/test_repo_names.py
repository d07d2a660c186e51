"""The one rule that names a git repository on both sides (agent remotes read from
.git/config, code-host webhooks): schema.repo_names.normalise_repo."""
from __future__ import annotations

import pytest

from shadowmap.contract.repo_names import normalise_repo


@pytest.mark.parametrize("remote, expected", [
    # https, with and without .git, trailing slash, credentials and ports dropped
    ("https://github.com/acme/shop", "github.com/acme/shop"),
    ("https://github.com/acme/shop.git", "github.com/acme/shop"),
    ("https://github.com/acme/shop.git/", "github.com/acme/shop"),
    ("https://user:ghp_token@github.com/acme/shop.git", "github.com/acme/shop"),
    ("https://GitHub.com:443/Acme/Shop.GIT", "github.com/acme/shop"),
    ("http://git.internal.example:8080/team/tool", "git.internal.example/team/tool"),
    # ssh URL and git's scp-like form, with and without the user
    ("ssh://git@github.com/acme/shop.git", "github.com/acme/shop"),
    ("ssh://git@gitlab.example.com:2222/Group/Sub/Project.git", "gitlab.example.com/group/sub/project"),
    ("git@github.com:Acme/Shop.git", "github.com/acme/shop"),
    ("github.com:acme/shop", "github.com/acme/shop"),
    ("git@gitlab.com:group/subgroup/deeper/project.git", "gitlab.com/group/subgroup/deeper/project"),
    ("git://github.com/acme/shop.git", "github.com/acme/shop"),
    # already normalised, or bare with a user or port
    ("github.com/acme/shop", "github.com/acme/shop"),
    ("GitLab.Example.com/Acme/Platform/API", "gitlab.example.com/acme/platform/api"),
    ("git@github.com/acme/shop", "github.com/acme/shop"),
    ("  https://github.com/acme/shop  ", "github.com/acme/shop"),
    # scp-like keeps git's meaning: after the colon comes a path, not a port
    ("gitlab.example.com:8443/g/p", "gitlab.example.com/8443/g/p"),
    # names with dots, dashes, underscores
    ("https://github.com/acme-inc/my_repo.js", "github.com/acme-inc/my_repo.js"),
])
def test_remotes_normalise_to_host_owner_name(remote, expected):
    assert normalise_repo(remote) == expected


@pytest.mark.parametrize("remote", [
    None, "", "   ",
    "https://github.com/acme",                     # no repository name
    "https://github.com/",
    "file:///srv/git/acme/shop.git",               # no host
    "/srv/git/acme/shop.git", "../shop",           # local paths
    "C:\\src\\shop",                               # a Windows path
    "https://github.com/acme/../etc",              # dot segments
    "https://github.com:99999999/acme/shop",       # a malformed port
    "https://github.com/acme/sh op",               # characters no host allows
    "https://github.com/" + "/".join(["a"] * 9),   # deeper than any GitLab subgroup chain
    "https://github.com/acme/" + "x" * 400,        # longer than the contract allows
])
def test_what_is_not_a_hosted_repository_has_no_name(remote):
    assert normalise_repo(remote) is None


def test_webhook_names_match_what_agents_report():
    from shadowmap.collector.api.scm_webhooks import github_remote, gitlab_remote

    assert github_remote({"repository": {"full_name": "Acme/Shop"}}) == "github.com/acme/shop"
    assert github_remote({"repository": {"full_name": "acme/shop",
                                         "html_url": "https://GHE.corp.example/acme/shop"}}) == "ghe.corp.example/acme/shop"
    assert gitlab_remote({"project": {"path_with_namespace": "Acme/Platform/API",
                                      "web_url": "https://gitlab.example.com:8443/Acme/Platform/API"}}) == \
        "gitlab.example.com/acme/platform/api"
    assert gitlab_remote({"project": {"path_with_namespace": "acme/api"}}) == "gitlab.com/acme/api"


AGENT_REMOTES = [  # as read from .git/config by the agent (bare=False)
    ("git@github.com:Acme/Payments.GIT", "github.com/acme/payments"),
    ("https://github.com/acme/payments.git", "github.com/acme/payments"),
    ("https://github.com/acme/payments", "github.com/acme/payments"),
    ("https://github.com/acme/payments/", "github.com/acme/payments"),
    ("https://ci-bot:s3cr3t@GitHub.com:8443/acme/payments.git", "github.com/acme/payments"),
    ("ssh://git@github.com:22/acme/payments.git", "github.com/acme/payments"),
    ("ssh://git@GITLAB.example.com/group/sub/project.git", "gitlab.example.com/group/sub/project"),
    ("git@gitlab.example.com:group/sub/deeper/project.git", "gitlab.example.com/group/sub/deeper/project"),
    ("https://gitlab.example.com/group/sub/project", "gitlab.example.com/group/sub/project"),
    ("git+ssh://git@bitbucket.org/team/repo.git", "bitbucket.org/team/repo"),
    ("https://dev.azure.com/org/project/_git/repo", "dev.azure.com/org/project/_git/repo"),
    ("github.com:acme/payments.git", "github.com/acme/payments"),
    ("  https://github.com/acme/payments.git\n", "github.com/acme/payments"),
    ("github.com/acme/payments", None),                  # to git, a relative local path
    # not a repository on a host
    ("/srv/git/payments.git", None),
    ("../payments", None),
    ("file:///srv/git/payments.git", None),
    ("C:/src/payments/app", None),
    ("https://github.com/payments", None),
    ("https://github.com/", None),
    ("git@github.com:", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("url, expected", AGENT_REMOTES, ids=[repr(u) for u, _ in AGENT_REMOTES])
def test_remotes_in_git_config_as_the_agent_reads_them(url, expected):
    assert normalise_repo(url, bare=False) == expected
    if expected is not None:
        assert "s3cr3t" not in expected and "ci-bot" not in expected
