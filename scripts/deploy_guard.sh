#!/usr/bin/env bash
# Refuses to deploy a commit that is not the current tip of main, before any credentials or
# `pulumi up`. A deploy run keeps its commit (GITHUB_SHA) for as long as it can be re-run, and its
# saved plan records exactly that commit's updates, so re-running an old run, or a queued run that
# starts after a newer one (GitHub does not guarantee queue order), would roll the stack back.
# The tip of main is, by the branch rules, never older than what any deploy applied before.
#
#   scripts/deploy_guard.sh <commit> <stack>
#
# Run in a checkout whose `origin` is this repository; it fetches main first, so the answer is
# main as it is now, not as it was when the run started. GH_TOKEN, when set, authenticates that
# one fetch (the workflows check out without persisted credentials).
set -euo pipefail

commit=${1:?usage: scripts/deploy_guard.sh <commit> <stack>}
stack=${2:?usage: scripts/deploy_guard.sh <commit> <stack>}
branch=main

if [[ -n "${GH_TOKEN:-}" ]]; then
  GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $(printf 'x-access-token:%s' "$GH_TOKEN" | base64 | tr -d '\n')"
  export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
  export GIT_CONFIG_VALUE_0
fi
if ! git fetch --quiet --no-tags origin "+refs/heads/$branch:refs/remotes/origin/$branch"; then
  echo "::error::cannot fetch $branch from origin, so cannot tell whether $commit is its tip: not deploying $stack"
  exit 1
fi
tip=$(git rev-parse "refs/remotes/origin/$branch")
commit=$(git rev-parse --verify --quiet "$commit^{commit}") || {
  echo "::error::$1 is not a commit of this checkout: not deploying $stack"
  exit 1
}

if [[ "$commit" == "$tip" ]]; then
  echo "$commit is the tip of $branch: deploying it to $stack"
  exit 0
fi
if git merge-base --is-ancestor "$commit" "$tip"; then
  echo "::error::not deploying $commit to $stack: $branch has moved on to $tip, and applying an older commit" \
    "would roll $stack back (a re-run of an old deploy run, or a queued run that started late). The deploy" \
    "run of $tip applies $branch; to deploy again, re-run that run."
else
  echo "::error::not deploying $commit to $stack: it is not on $branch (now at $tip). Only the tip of $branch" \
    "is deployed."
fi
exit 1
