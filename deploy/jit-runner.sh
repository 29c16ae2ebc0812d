#!/usr/bin/env bash
# One ephemeral GPU runner per job on a single machine, without Kubernetes
# (docs/maintainers/setup.md, step 10). Run on the GPU host as a user that may start containers:
#
#   ORG=open-medical-llm RUNNER_GROUP_ID=3 GH_TOKEN=... deploy/jit-runner.sh
#
# For each job it asks GitHub for a just-in-time runner configuration (one runner, one job, in
# the organisation's runner group `gpu`, labels self-hosted, linux, gpu), starts a FRESH
# container with it (`docker run --rm`: nothing survives the job), waits for it to finish, and
# loops. The admin token stays in this script's environment on the host; the container only gets
# the single-use JIT configuration.
#
#   ORG              the organisation (runner groups exist only for organisations, so the JIT
#                    configuration is made at the organisation, never the repository)
#   RUNNER_GROUP_ID  the id of the group `gpu`:
#                    gh api "orgs/$ORG/actions/runner-groups" --jq '.runner_groups[] | select(.name == "gpu") | .id'
#   GH_TOKEN         an organisation admin's token: a fine-grained token with the organisation
#                    permission "Self-hosted runners: read and write" (or a classic token with
#                    admin:org), kept in a root-only file on the host, e.g.
#                    GH_TOKEN=$(cat /etc/medlb/runner-admin-token)
#   RUNNER_IMAGE     a runner image with the NVIDIA container toolkit's support, default below
#   ONCE=1           register one runner, run one job, exit (for a systemd unit or a VM that is
#                    thrown away afterwards)
set -euo pipefail

: "${ORG:?set ORG to the organisation}"
: "${RUNNER_GROUP_ID:?set RUNNER_GROUP_ID to the id of the runner group gpu}"
: "${GH_TOKEN:?set GH_TOKEN to an organisation admin token (Self-hosted runners: write)}"
RUNNER_IMAGE=${RUNNER_IMAGE:-ghcr.io/actions/actions-runner:latest} # pin by digest in production
export GH_TOKEN

one_job() {
  local name config
  name="gpu-$(hostname -s)-$(date +%s)"
  # POST /orgs/{org}/actions/runners/generate-jitconfig: runner_group_id and labels are required
  # for the job to find this runner (evaluate.yml: runs-on: [self-hosted, linux, gpu]).
  config=$(gh api --method POST "orgs/$ORG/actions/runners/generate-jitconfig" \
    -f name="$name" \
    -F runner_group_id="$RUNNER_GROUP_ID" \
    -f 'labels[]=self-hosted' -f 'labels[]=linux' -f 'labels[]=gpu' \
    -f work_folder=_work \
    --jq .encoded_jit_config)
  echo "runner $name registered; waiting for a job"
  # --rm: the container and everything the job wrote are deleted when the job ends.
  docker run --rm --gpus all --name "$name" "$RUNNER_IMAGE" \
    /home/runner/run.sh --jitconfig "$config"
}

if [ "${ONCE:-0}" = 1 ]; then
  one_job
else
  while true; do
    one_job || sleep 30 # GitHub did not answer, or the container failed: try again shortly
  done
fi
